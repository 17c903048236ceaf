import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import { formatArchiveName } from '../../src/vocabulary/archive-name';
import type { StoredArchive } from '../../src/targets/target';
import { sampleManifest } from '../helpers/target-fixtures';

export const DAY_MS = 86_400_000;

/** A complete archive of `volume` made at `created`: full, or an incremental on the last of `onChain`. */
export function storedArchive(volume: string, created: Date, onChain: readonly string[] = [], bytes = 100): StoredArchive {
  const name = formatArchiveName(volume, created, 'gzip', 'none');
  const chainFields: Partial<ArchiveManifest> =
    onChain.length === 0 ? { kind: 'full', chain: [name] } : { kind: 'incremental', base: onChain[onChain.length - 1], chain: [...onChain, name] };
  const manifest: ArchiveManifest = { ...sampleManifest(name, created.toISOString(), bytes), volume, ...chainFields };
  return { name, manifest };
}

/** An archive as manifests before chains had it: no kind, base or chain. */
export function legacyArchive(volume: string, created: Date): StoredArchive {
  const { name, manifest } = storedArchive(volume, created);
  const { kind: _kind, chain: _chain, ...older } = manifest;
  return { name, manifest: older };
}

/** A full archive and `incrementals` on it, a day apart from `start`, newest first as targets list them. */
export function chainOf(volume: string, start: Date, incrementals: number): StoredArchive[] {
  const archives: StoredArchive[] = [];
  for (let day = 0; day <= incrementals; day++) {
    const onChain = archives.map((archive) => archive.name);
    archives.push(storedArchive(volume, new Date(start.getTime() + day * DAY_MS), onChain));
  }
  return archives.reverse();
}
