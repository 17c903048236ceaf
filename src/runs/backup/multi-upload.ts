import type { Writable } from 'node:stream';
import type { TargetOutcome } from '../../vocabulary/run-record';
import type { ArchiveOutput } from '../../archive';
import { FanOut, watchBranchFailure, type FanOutBranch } from '../../targets/fan-out';
import type { ArchiveUpload, Target } from '../../targets/target';

interface Branch extends FanOutBranch {
  target: Target;
  upload?: ArchiveUpload;
  /** Removed because the run failed, not because this target did (its failure stays unset). */
  abandoned?: boolean;
}

/**
 * One archive uploaded to several targets at once. A target that fails (cannot start, breaks mid-stream,
 * cannot commit or take the manifest) is dropped with its error, its partial upload removed, and the
 * others go on; the caller fails the run when any failed, and everything when none is left.
 */
export class MultiUpload {
  private fanOut?: FanOut;
  private archive = '';

  private constructor(
    private readonly volume: string,
    private readonly branches: Branch[],
    private readonly redact: (text: string) => string,
  ) {}

  /**
   * Before anything is stopped: clears what an interrupted run left in each target, which also shows
   * whether the target answers. A target that does not is failed for this run; when none answers, this
   * throws and nothing is stopped.
   */
  static async prepare(targets: Target[], volume: string, redact: (text: string) => string): Promise<MultiUpload> {
    const branches = await Promise.all(
      targets.map(async (target): Promise<Branch> => {
        const branch: Branch = { name: target.name, target, stream: undefined as unknown as Writable };
        await target.removeIncomplete(volume).catch((error: Error) => (branch.failure = error));
        return branch;
      }),
    );
    const multi = new MultiUpload(volume, branches, redact);
    if (multi.succeeded().length === 0) throw multi.failure();
    return multi;
  }

  /** Starts the upload in every target still in the run; throws when none could start. */
  async begin(archive: string): Promise<void> {
    this.archive = archive;
    for (const branch of this.live()) {
      try {
        branch.upload = await branch.target.beginUpload(this.volume, archive);
        branch.stream = branch.upload.stream;
        // At once: a stream can fail while the next target's upload is being started, before the
        // fan-out listens, and an error nobody listens to would end the plugin.
        watchBranchFailure(branch);
      } catch (error) {
        branch.failure = error as Error;
      }
    }
    this.fanOut = new FanOut(this.branches.filter((branch) => branch.upload));
    if (this.succeeded().length === 0) throw this.failure();
  }

  /**
   * The archive's bytes go here, to every target at once. When the only upload is a plain local file,
   * straight into it: createArchive then writes the packing worker's own buffers (archive-output.ts),
   * which the fan-out's hop would prevent. Any other upload goes through the fan-out, which copes with one
   * that fails before its first byte (an SFTP server refusing the file hung a run that wrote to it directly).
   */
  get output(): ArchiveOutput {
    if (!this.fanOut) throw new Error('begin() first');
    const started = this.branches.filter((branch) => branch.upload);
    const only = started.length === 1 ? started[0].upload : undefined;
    return only?.kind === 'local-file' ? only : { kind: 'stream', stream: this.fanOut };
  }

  /** Commits every upload still going; one that cannot commit is failed and removed. */
  async commit(): Promise<void> {
    // Those that broke mid-stream leave no partial upload behind.
    for (const branch of this.branches) if (branch.failure && branch.upload) await this.cleanUp(branch);
    for (const branch of this.live()) {
      try {
        await branch.upload?.commit();
      } catch (error) {
        await this.fail(branch.target, error);
      }
    }
  }

  /** Runs step for each target still in the run; a target whose step throws is failed and cleaned up. */
  async forEachLive(step: (target: Target) => Promise<void>): Promise<void> {
    for (const branch of this.live()) {
      try {
        await step(branch.target);
      } catch (error) {
        await this.fail(branch.target, error);
      }
    }
  }

  async fail(target: Target, error: unknown): Promise<void> {
    const branch = this.branches.find((candidate) => candidate.target === target);
    if (!branch) return;
    branch.failure ??= error as Error;
    await this.cleanUp(branch);
  }

  /** Removes the archive from every target: the run as a whole failed. */
  async abortAll(): Promise<void> {
    for (const branch of this.branches) await this.cleanUp(branch);
  }

  /** Targets that hold the archive so far. */
  succeeded(): Target[] {
    return this.live().map((branch) => branch.target);
  }

  outcomes(): TargetOutcome[] {
    return this.branches.map((branch) => {
      if (branch.failure) return { name: branch.name, result: 'failed', error: this.describe(branch) };
      if (branch.abandoned) return { name: branch.name, result: 'failed', error: `target ${branch.name}: the run failed` };
      return { name: branch.name, result: 'success' };
    });
  }

  /**
   * Whether every target failed on its own: then their errors are why the run failed. A target that was
   * only removed because the run failed (abandoned) means the cause lies elsewhere (the volume, the archive).
   */
  allTargetsFailed(): boolean {
    return this.branches.every((branch) => branch.failure);
  }

  /** Every target's failure, one sentence, each naming its target. */
  failure(): Error {
    const failed = this.branches.filter((branch) => branch.failure);
    return new Error(failed.map((branch) => this.describe(branch)).join('; ') || 'no target');
  }

  private live(): Branch[] {
    return this.branches.filter((branch) => !branch.failure && !branch.abandoned);
  }

  private describe(branch: Branch): string {
    const message = this.redact(branch.failure?.message ?? 'failed');
    return message.startsWith(`target ${branch.name}:`) ? message : `target ${branch.name}: ${message}`;
  }

  /** Best effort: an unreachable target keeps its leftovers until its next removeIncomplete. */
  private async cleanUp(branch: Branch): Promise<void> {
    // Also before its upload began: a target the run never got to write to does not hold the archive.
    if (!branch.failure) branch.abandoned = true;
    const upload = branch.upload;
    branch.upload = undefined;
    if (!upload) return;
    await upload.abort().catch(() => undefined);
    await branch.target.remove(this.volume, this.archive).catch(() => undefined);
  }
}
