import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { createArchive } from '../src/archive/create-archive';
import type { SyncStats } from '../src/snapshot/sync-mirror';
import { takeSnapshot } from '../src/snapshot/take-snapshot';
import type { SnapshotMode } from '../src/vocabulary/volume-options';

export interface SnapshotRun {
  /** What takeSnapshot reports as downtime (for direct: once released, i.e. after the archive). */
  reportedMs: number;
  /** From the moment the no-op quiesce returned ("stopped") until resume was called. */
  stoppedMs: number;
  /** What was copied while stopped (sync and copy). */
  copied?: SyncStats;
}

/**
 * One snapshot of `source` as src/runs/backup/run-backup.ts takes it, with a quiesce that stops nothing and
 * writes down the stopped interval. `beforeStop` runs inside the quiesce before that interval starts: it
 * models writes that land after the live pass and before the containers stop. For direct the snapshot is
 * archived (gzip, the default compression) into `archivePath` before release, as a backup would: its
 * downtime is the archive time.
 */
export async function runSnapshot(input: {
  mode: SnapshotMode;
  source: string;
  stagingDir: string;
  archivePath: string;
  beforeStop?: () => Promise<unknown>;
}): Promise<SnapshotRun> {
  let stoppedAt = 0;
  let stoppedMs = 0;
  const snapshot = await takeSnapshot({
    mode: input.mode,
    source: input.source,
    stagingDir: input.stagingDir,
    exclude: [],
    quiesce: async () => {
      await input.beforeStop?.();
      stoppedAt = performance.now();
      return async () => {
        stoppedMs = performance.now() - stoppedAt;
      };
    },
  });
  try {
    // A fallback to direct would measure another mode under this one's name.
    if (snapshot.modeUsed !== input.mode) throw new Error(`asked for ${input.mode}, got ${snapshot.modeUsed}: ${snapshot.fellBackReason}`);
    if (input.mode === 'direct') await archive(snapshot.archiveRoot, input.archivePath);
  } finally {
    await snapshot.release();
    await rm(input.archivePath, { force: true });
  }
  return { reportedMs: snapshot.downtimeMs, stoppedMs, copied: snapshot.downtimeCopy };
}

async function archive(sourceDir: string, path: string): Promise<void> {
  const output = createWriteStream(path);
  await createArchive({ sourceDir, compression: 'gzip', exclude: [], output: { kind: 'local-file', stream: output } });
  if (!output.closed) await finished(output);
}
