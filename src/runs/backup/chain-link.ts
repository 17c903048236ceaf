import { join } from 'node:path';
import type { ChainLink } from '../../archive';
import type { Logger } from '../../shared/logger';
import { CHAIN_FOLDER } from '../../snapshot/staging-layout';
import type { StoredArchive, Target } from '../../targets/target';
import type { ArchiveManifest } from '../../vocabulary/archive-manifest';
import type { SnapshotMode, VolumeOptions } from '../../vocabulary/volume-options';
import { ChainIndexes } from './chain-indexes';
import { chainManifestFields, planArchiveKind, type ArchiveKindPlan } from './plan-archive-kind';

/** The archive a run makes when backup-full-every is more than 1: a link of an incremental chain. */
export class PlannedLink {
  private constructor(
    readonly plan: ArchiveKindPlan,
    private readonly indexes: ChainIndexes,
    private readonly nextIndex: string,
    private readonly previousIndex: string | undefined,
  ) {}

  /**
   * Undefined when backup-full-every is 1 (every archive full and plain, as before chains). A base must be
   * complete in every target of the volume: each target alone restores every point it holds.
   */
  static async plan(input: { volume: string; options: VolumeOptions; targets: readonly Target[]; stagingDir: string; logger: Logger }): Promise<PlannedLink | undefined> {
    const { fullEvery } = input.options;
    if ('count' in fullEvery && fullEvery.count <= 1) return undefined;
    const indexes = chainIndexesOf(input.stagingDir);
    const archives = await completeInAll(input.targets, input.volume);
    const plan = planArchiveKind({ archives, fullEvery, now: new Date(), indexedArchive: await indexes.indexed() });
    if (plan.kind === 'full') input.logger.info(`Volume ${input.volume}: a full archive starts a chain (${plan.reason})`);
    const previousIndex = plan.kind === 'incremental' ? indexes.of(plan.base) : undefined;
    return new PlannedLink(plan, indexes, await indexes.pending(), previousIndex);
  }

  /** What the packer needs; inode numbers and ctimes say nothing of a fresh copy. */
  packing(modeUsed: SnapshotMode): ChainLink {
    return { previousIndex: this.previousIndex, nextIndex: this.nextIndex, trustInode: modeUsed !== 'copy' };
  }

  manifestFields(archive: string): Pick<ArchiveManifest, 'kind' | 'base' | 'chain'> {
    return chainManifestFields(this.plan, archive);
  }

  /** Once the archive is complete in every target: the next run may base on it. */
  commit(archive: string): Promise<void> {
    return this.indexes.commit(archive);
  }

  discard(): Promise<void> {
    return this.indexes.discardPending();
  }
}

/** The first target's complete archives, newest first, that every other target holds complete too. */
async function completeInAll(targets: readonly Target[], volume: string): Promise<StoredArchive[]> {
  const [first, ...others] = await Promise.all(targets.map((target) => target.list(volume)));
  const everywhere = others.map((listing) => new Set(listing.map((archive) => archive.name)));
  return (first ?? []).filter((archive) => everywhere.every((names) => names.has(archive.name)));
}

/** Where a volume's chain index lives: in its staging folder, kept from run to run like the mirror. */
export function chainIndexesOf(stagingDir: string): ChainIndexes {
  return new ChainIndexes(join(stagingDir, CHAIN_FOLDER));
}
