import { performance } from 'node:perf_hooks';
import type { ArchiveKeys } from '../../settings/archive-keys';
import type { ArchiveSource } from '../../targets/target-reader';
import type { RestoreSource } from '../../vocabulary/restore-source';
import type { DrillRecord } from '../../vocabulary/run-record';
import type { VolumeEncryption } from './archive-encryption';
import { pointAndLinks, resolvePoint } from './resolve-archive';
import { stageArchive } from './stage-archive';
import { removeTree } from '../../shared/remove-tree';

export interface DrillRequest {
  source: RestoreSource;
  trigger: DrillRecord['trigger'];
  /** Emptied first, removed at the end whatever the outcome: the drill keeps nothing. */
  scratchDir: string;
  keys?: ArchiveKeys;
  encryption: readonly VolumeEncryption[];
  keepSpecialBits?: boolean;
  onProgress?: (archive: string, bytes: number, totalBytes: number) => void;
}

const MB = 1_000_000;

/**
 * A restore drill: the point (its full archive and every incremental up to it) restored into a scratch
 * folder by the restore path itself (stageArchive: the same guard, the same checks of each archive's
 * sha256 and file count), its bytes checked against the manifests, the time taken, and the scratch copy
 * deleted. It reads archives and writes its scratch folder only: no volume or container is touched.
 * Never throws: a failure is the record's result and error.
 */
export async function drillRestore(archives: ArchiveSource, request: DrillRequest): Promise<DrillRecord> {
  const record: DrillRecord = { time: new Date().toISOString(), result: 'failed', trigger: request.trigger, seconds: 0 };
  const started = performance.now();
  try {
    const links = await resolvePoint(archives, request.source);
    const { archive } = pointAndLinks(links);
    Object.assign(record, { archive: archive.name, chain: links.map((link) => link.name) });
    const holder = (archive as { target?: string }).target;
    if (holder) record.target = holder;
    const expectedBytes = links.reduce((sum, link) => sum + link.manifest.bytes, 0);
    const restored = await stageArchive(archives, {
      sourceVolume: request.source.volume,
      archive,
      links,
      stagingDir: request.scratchDir,
      keys: request.keys,
      encryption: request.encryption,
      keepSpecialBits: request.keepSpecialBits,
      onProgress: (bytes) => request.onProgress?.(archive.name, bytes, expectedBytes),
    });
    if (restored.bytes !== expectedBytes) {
      throw new Error(`read ${restored.bytes} bytes of archives, the manifests of ${archive.name}'s chain say ${expectedBytes}`);
    }
    record.seconds = secondsSince(started);
    Object.assign(record, { bytes: restored.contentBytes, fileCount: restored.fileCount });
    record.mbPerSecond = Math.round((restored.contentBytes / MB / Math.max(record.seconds, 0.001)) * 10) / 10;
    record.result = 'ok';
  } catch (error) {
    record.seconds = secondsSince(started);
    record.error = (error as Error).message;
  } finally {
    await removeTree(request.scratchDir).catch(() => undefined);
  }
  return record;
}

function secondsSince(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
