import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';

/** A manifest for target tests, of volume v: only the fields a target looks at matter. */
export function sampleManifest(archive: string, created: string, bytes = 5): ArchiveManifest {
  return {
    volume: 'v',
    archive,
    options: {},
    created,
    bytes,
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
