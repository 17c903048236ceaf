import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { manifestName, type ArchiveManifest } from '../vocabulary/archive-manifest';
import type { Redactor } from '../shared/redact';
import { completeArchives, isLeftover, PARTIAL_PREFIX } from './leftovers';
import { DEFAULT_TIMEOUTS } from '../settings/settings';
import { StallGuardStream, StallWatch, withinStall } from '../shared/stall-watch';
import type { RemoteStore, StoreSession } from './remote-store';
import type { ArchiveUpload, StoredArchive, Target } from './target';

/**
 * The archive rules of the contract over any RemoteStore: an archive is uploaded under a temporary name
 * and renamed (unless the store's uploads are atomic), its manifest is written last, and only archives
 * with a readable manifest are listed. Every error names the target and is stripped of secrets.
 */
export class RemoteTarget implements Target {
  readonly name: string;

  constructor(
    private readonly store: RemoteStore,
    /** The plugin's one redaction of every secret, not only this store's: a library error may echo any. */
    private readonly redact: Redactor,
    /** TRANSFER_STALL_TIMEOUT in ms: how long the server may make no progress before an operation fails. */
    private readonly stallMs: number = DEFAULT_TIMEOUTS.transferStallSeconds * 1000,
  ) {
    this.name = store.name;
  }

  async beginUpload(volume: string, archive: string): Promise<ArchiveUpload> {
    const final = posix.join(volume, archive);
    const temporary = this.store.atomicUploads ? final : posix.join(volume, `${PARTIAL_PREFIX}${archive}`);
    const upload = await this.guard(`starting the upload of ${temporary}`, async (watch) => {
      await this.session(watch, (session) => session.ensureFolder(volume));
      return this.store.upload(temporary);
    });
    // A server that stops taking the archive's bytes fails the upload (and so frees the run) in time.
    const stream = new StallGuardStream(upload.stream, this.stallMs, () => this.silence('no progress', `uploading ${temporary}`));
    upload.onProgress?.(() => stream.progress());
    return {
      kind: 'stream',
      stream,
      commit: () =>
        this.guard(`finishing the upload of ${temporary}`, async (watch) => {
          upload.onProgress?.(() => watch.progress());
          await upload.done();
          watch.progress();
          if (temporary !== final) await this.session(watch, (session) => session.rename(temporary, final));
        }),
      abort: () =>
        this.guard(`removing the partial upload ${temporary}`, async (watch) => {
          stream.destroy();
          await upload.abort().catch(() => undefined);
          watch.progress();
          await this.session(watch, async (session) => {
            await session.remove(temporary);
            await session.remove(final);
          });
        }),
    };
  }

  writeManifest(volume: string, manifest: ArchiveManifest): Promise<void> {
    const final = posix.join(volume, manifestName(manifest.archive));
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    return this.guard(`writing the manifest of ${posix.join(volume, manifest.archive)}`, (watch) =>
      this.session(watch, async (session) => {
        if (this.store.atomicUploads) return session.writeText(final, text);
        // A manifest cut short would be unreadable, and its archive incomplete rather than wrong; the
        // rename still keeps a reader from ever seeing half of one.
        const temporary = posix.join(volume, `${PARTIAL_PREFIX}${manifestName(manifest.archive)}`);
        await session.writeText(temporary, text);
        await session.rename(temporary, final);
      }),
    );
  }

  list(volume: string): Promise<StoredArchive[]> {
    return this.guard(`listing the archives of ${volume}`, (watch) => this.session(watch, (session) => this.complete(session, volume)));
  }

  remove(volume: string, archive: string): Promise<void> {
    return this.guard(`removing ${posix.join(volume, archive)}`, (watch) =>
      this.session(watch, async (session) => {
        await session.remove(posix.join(volume, manifestName(archive)));
        await session.remove(posix.join(volume, archive));
      }),
    );
  }

  async open(volume: string, archive: string): Promise<Readable> {
    const path = posix.join(volume, archive);
    const source = await this.guard(`opening ${path}`, () => this.store.openRead(path));
    // Errors while reading come from the library too: they get the same treatment. Closing the copy
    // (a reader that gave up) closes the source and so its connection.
    const copy = new PassThrough();
    const fail = (error: Error) => copy.destroy(targetError(this.name, error, this.redact));
    source.on('error', fail);
    copy.on('close', () => source.destroy());
    source.pipe(copy);
    this.watchRead(source, copy, path, fail);
    return copy;
  }

  /**
   * A server that stops sending fails the read (a restore or verify would wait for good). Only while the
   * reader wants data: a reader slow to take it (extraction of large files) is no stall of the server.
   */
  private watchRead(source: Readable, copy: PassThrough, path: string, fail: (error: Error) => void): void {
    let watch: StallWatch | undefined;
    const arm = () => {
      watch?.stop();
      watch = new StallWatch(this.stallMs, () => this.silence('no progress', `reading ${path}`));
      watch.stalled.catch(fail);
    };
    arm();
    // After pipe's own listener, so that writableNeedDrain tells whether this chunk filled the reader.
    source.on('data', () => (copy.writableNeedDrain ? watch?.stop() : watch?.progress()));
    copy.on('drain', arm);
    source.once('end', () => watch?.stop());
    copy.once('close', () => watch?.stop());
  }

  removeIncomplete(volume: string): Promise<string[]> {
    return this.guard(`clearing what an interrupted run left in ${volume}`, async (watch) => {
      await this.store.discardStaleUploads?.(volume);
      watch.progress();
      return this.session(watch, async (session) => {
        const names = await session.list(volume);
        const complete = new Set((await this.complete(session, volume, names)).map((archive) => archive.name));
        const removed: string[] = [];
        for (const name of names) {
          if (!isLeftover(name, complete)) continue;
          await session.remove(posix.join(volume, name));
          removed.push(name);
        }
        return removed;
      });
    });
  }

  private async complete(session: StoreSession, volume: string, known?: string[]): Promise<StoredArchive[]> {
    return completeArchives(known ?? (await session.list(volume)), (manifest) => session.readText(posix.join(volume, manifest)));
  }

  /**
   * Runs an operation of this target: its errors name the target and carry no secret, and it fails when
   * the server gives no answer for TRANSFER_STALL_TIMEOUT (each answer, see session(), counts as progress).
   */
  private async guard<T>(what: string, operation: (watch: StallWatch) => Promise<T>): Promise<T> {
    try {
      return await withinStall(this.stallMs, () => this.silence('no answer', what), operation);
    } catch (error) {
      throw targetError(this.name, error, this.redact);
    }
  }

  /** A session of the store whose every answer (and the connection itself) is progress for watch. */
  private session<T>(watch: StallWatch, fn: (session: StoreSession) => Promise<T>): Promise<T> {
    return this.store.session((session) => {
      watch.progress();
      return fn(reportingProgress(session, watch));
    });
  }

  private silence(kind: string, what: string): string {
    return `${kind} for ${this.stallMs / 1000} s while ${what} (TRANSFER_STALL_TIMEOUT)`;
  }
}

/** Each answer of the server is progress: a long listing of many manifests may take as long as it moves. */
function reportingProgress(session: StoreSession, watch: StallWatch): StoreSession {
  const answered = <T>(request: Promise<T>): Promise<T> => request.finally(() => watch.progress());
  return {
    list: (folder) => answered(session.list(folder)),
    readText: (path) => answered(session.readText(path)),
    writeText: (path, text) => answered(session.writeText(path, text)),
    remove: (path) => answered(session.remove(path)),
    rename: (from, to) => answered(session.rename(from, to)),
    ensureFolder: (folder) => answered(session.ensureFolder(folder)),
  };
}

/**
 * An Error whose message names the target and carries no secret. Library errors can echo request URLs
 * (with user:password@ in them) or, in rare cases, a header: every message a remote target lets out goes
 * through here, so a secret never reaches a log, a status or the CLI, whatever the library said.
 */
function targetError(target: string, error: unknown, redact: Redactor): Error {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const cleaned = redact(message);
  return new Error(cleaned.startsWith(`target ${target}:`) ? cleaned : `target ${target}: ${cleaned}`);
}
