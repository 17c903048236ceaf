import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { manifestName, type ArchiveManifest } from '../backup/archive-manifest';
import type { Redactor } from '../logging/redact';
import { completeArchives, isLeftover, PARTIAL_PREFIX } from './leftovers';
import { targetError } from './redact';
import type { RemoteStore } from './remote-store';
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
  ) {
    this.name = store.name;
  }

  async beginUpload(volume: string, archive: string): Promise<ArchiveUpload> {
    const final = posix.join(volume, archive);
    const temporary = this.store.atomicUploads ? final : posix.join(volume, `${PARTIAL_PREFIX}${archive}`);
    const upload = await this.guard(async () => {
      await this.store.session((session) => session.ensureFolder(volume));
      return this.store.upload(temporary);
    });
    return {
      stream: upload.stream,
      commit: () =>
        this.guard(async () => {
          await upload.done();
          if (temporary !== final) await this.store.session((session) => session.rename(temporary, final));
        }),
      abort: () =>
        this.guard(async () => {
          await upload.abort().catch(() => undefined);
          await this.store.session(async (session) => {
            await session.remove(temporary);
            await session.remove(final);
          });
        }),
    };
  }

  writeManifest(volume: string, manifest: ArchiveManifest): Promise<void> {
    const final = posix.join(volume, manifestName(manifest.archive));
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    return this.guard(() =>
      this.store.session(async (session) => {
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
    return this.guard(() => this.store.session((session) => this.complete(session, volume)));
  }

  remove(volume: string, archive: string): Promise<void> {
    return this.guard(() =>
      this.store.session(async (session) => {
        await session.remove(posix.join(volume, manifestName(archive)));
        await session.remove(posix.join(volume, archive));
      }),
    );
  }

  async open(volume: string, archive: string): Promise<Readable> {
    const source = await this.guard(() => this.store.openRead(posix.join(volume, archive)));
    // Errors while reading come from the library too: they get the same treatment. Closing the copy
    // (a reader that gave up) closes the source and so its connection.
    const copy = new PassThrough();
    source.on('error', (error) => copy.destroy(targetError(this.name, error, this.redact)));
    copy.on('close', () => source.destroy());
    source.pipe(copy);
    return copy;
  }

  removeIncomplete(volume: string): Promise<string[]> {
    return this.guard(async () => {
      await this.store.discardStaleUploads?.(volume);
      return this.store.session(async (session) => {
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

  private async complete(session: Parameters<Parameters<RemoteStore['session']>[0]>[0], volume: string, known?: string[]): Promise<StoredArchive[]> {
    return completeArchives(known ?? (await session.list(volume)), (manifest) => session.readText(posix.join(volume, manifest)));
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw targetError(this.name, error, this.redact);
    }
  }
}
