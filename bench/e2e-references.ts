import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measureFlushed } from './pipeline-rounds';

/**
 * What a user would type instead of the plugin, on the same data and in the same run: the archive is written
 * to a file and fsynced, as the plugin's local target does before it writes the manifest.
 */
export type ArchiveReference = 'pigz' | 'zstd';

export const REFERENCE_NAMES: Record<ArchiveReference, string> = {
  pigz: '`tar -cf - | pigz -6` + sync',
  zstd: '`tar -cf - | zstd -3 -T0` + sync',
};

const PIPES: Record<ArchiveReference, string> = { pigz: 'pigz -6', zstd: 'zstd -3 -T0 -q' };

/** Wall time (ms) of one reference archive of DIR, written into workDir and removed afterwards. */
export async function referenceArchive(reference: ArchiveReference, dir: string, workDir: string): Promise<number> {
  const output = join(workDir, `e2e-reference.tar.${reference === 'pigz' ? 'gz' : 'zst'}`);
  try {
    const script = `tar -cf - -C "$0" . | ${PIPES[reference]} > "$1" && sync "$1"`;
    return (await measureFlushed('bash', ['-c', script, dir, output])).wallMs;
  } finally {
    await rm(output, { force: true });
  }
}

/** `tar -xzf ARCHIVE` into a new folder DESTINATION (kept: see restore-section.ts on deleting files). */
export async function referenceExtract(archive: string, destination: string): Promise<number> {
  await mkdir(destination, { recursive: true });
  return (await measureFlushed('tar', ['-xzf', archive, '-C', destination])).wallMs;
}

/** restic, where the distribution's package is installed; its repository goes into workDir. */
export class ResticReference {
  private constructor(private readonly repository: string) {}

  static async ifInstalled(workDir: string): Promise<ResticReference | undefined> {
    try {
      execFileSync('restic', ['version'], { stdio: 'ignore' });
    } catch {
      return undefined;
    }
    const reference = new ResticReference(join(workDir, 'e2e-restic'));
    await reference.restic(['init']);
    return reference;
  }

  static version(): string {
    return execFileSync('restic', ['version'], { encoding: 'utf8' }).trim();
  }

  /** Wall time (ms) of `restic backup DIR`: the first one reads everything, later ones only what changed. */
  async backup(dir: string): Promise<number> {
    return this.restic(['backup', '--quiet', dir]);
  }

  private async restic(args: string[]): Promise<number> {
    const measurement = await measureFlushed('env', ['RESTIC_PASSWORD=bench', 'restic', '--repo', this.repository, ...args]);
    return measurement.wallMs;
  }
}
