import type { ArchiveManifest } from '../../src/backup/archive-manifest';

/** A plausible manifest for target tests, which care about names and dates, not content. */
export function manifestFixture(volume: string, archive: string, created: string): ArchiveManifest {
  return {
    volume,
    archive,
    options: {},
    created,
    bytes: 5,
    fileCount: 1,
    sha256: 'x',
    compression: 'gzip',
    encryption: 'none',
    snapshotMode: 'sync',
    quiesced: true,
    durations: { totalMs: 1, downtimeMs: 1 },
    stopped: { containers: [] },
  };
}
