import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { manifestName, type ArchiveManifest } from '../vocabulary/archive-manifest';
import { syncDirectory, writeFileAtomically } from '../shared/atomic-file';
import { startWriteBehind } from '../shared/write-behind';
import { completeArchives, isLeftover, PARTIAL_PREFIX } from './leftovers';
import type { ArchiveUpload, OpenOptions, StoredArchive, Target } from './target';

/** The embedded default target: a folder per volume under the settable archive mount. */
export class LocalTarget implements Target {
  readonly name = 'local';

  constructor(private readonly root: string) {}

  async beginUpload(volume: string, archive: string): Promise<ArchiveUpload> {
    const folder = await this.folder(volume);
    const partial = join(folder, `${PARTIAL_PREFIX}${archive}`);
    const stream = createWriteStream(partial, { mode: 0o600 });
    const writeBehind = startWriteBehind(stream, partial);
    return {
      kind: 'local-file',
      stream,
      commit: async () => {
        if (!stream.closed) await finished(stream);
        // Here rather than as the stream closes, so that a run's phases tell writing from syncing.
        await writeBehind.sync();
        await rename(partial, join(folder, archive));
        await syncDirectory(folder);
      },
      abort: async () => {
        // A write still in flight fails once the stream is destroyed: that error is expected, not a crash.
        stream.on('error', () => undefined);
        stream.destroy();
        await writeBehind.stop();
        await rm(partial, { force: true });
        await rm(join(folder, archive), { force: true });
      },
    };
  }

  async writeManifest(volume: string, manifest: ArchiveManifest): Promise<void> {
    const folder = await this.folder(volume);
    await writeFileAtomically(join(folder, manifestName(manifest.archive)), `${JSON.stringify(manifest, null, 2)}\n`);
  }

  async list(volume: string): Promise<StoredArchive[]> {
    return this.complete(volume, await this.names(volume));
  }

  async remove(volume: string, archive: string): Promise<void> {
    await rm(join(this.root, volume, manifestName(archive)), { force: true });
    await rm(join(this.root, volume, archive), { force: true });
  }

  async open(volume: string, archive: string, options: OpenOptions = {}): Promise<Readable> {
    const stream = createReadStream(join(this.root, volume, archive), { highWaterMark: options.readBytes });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return stream;
  }

  async removeIncomplete(volume: string): Promise<string[]> {
    const names = await this.names(volume);
    const complete = new Set((await this.complete(volume, names)).map((archive) => archive.name));
    const removed: string[] = [];
    for (const name of names) {
      if (!isLeftover(name, complete)) continue;
      await rm(join(this.root, volume, name), { force: true });
      removed.push(name);
    }
    return removed;
  }

  private async folder(volume: string): Promise<string> {
    const folder = join(this.root, volume);
    await mkdir(folder, { recursive: true });
    return folder;
  }

  private complete(volume: string, names: string[]): Promise<StoredArchive[]> {
    return completeArchives(names, (manifest) =>
      readFile(join(this.root, volume, manifest), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      }),
    );
  }

  private async names(volume: string): Promise<string[]> {
    try {
      return await readdir(join(this.root, volume));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
