import assert from 'node:assert/strict';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { PhaseTimer } from '../../src/shared/phase-timer';
import { StopJournal } from '../../src/engine/stop-journal';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { describePhases, RUN_PHASES, type PhaseTimings } from '../../src/vocabulary/run-phases';
import type { ArchiveManifest } from '../../src/vocabulary/archive-manifest';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const STOP_MS = 150;

/** A container that takes STOP_MS to stop, so the stop phase has a length to find. */
class SlowStoppingDocker extends FakeDocker {
  override async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await delay(STOP_MS);
    return super.stopContainer(id, timeoutSeconds);
  }
}

function sum(phases: PhaseTimings): number {
  return Object.values(phases).reduce((total, ms) => total + (ms ?? 0), 0);
}

describe('the phases of a backup run', () => {
  async function backUp(snapshot: 'sync' | 'copy' | 'direct') {
    const dir = await makeTempDir('phases');
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'file.txt'), 'timed');
    const docker = new SlowStoppingDocker([container('app', { volumes: ['v'] })]);
    const archiveRoot = join(dir, 'archive');
    const targets = new TargetSet(archiveRoot, loadRemoteSettings({}));
    const raw = { 'backup-snapshot': snapshot };
    const record = await runBackup(
      { docker, journal: new StopJournal(dir), targets, stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger: createSilentLogger() },
      {
        volume: 'v',
        options: parseVolumeOptions(raw, { schedule: 'none', retention: '', encryption: 'none' }),
        rawOptions: raw,
        dataPath: data,
        stagingDir: join(dir, 'staging'),
        trigger: 'manual',
      },
    );
    assert.equal(record.result, 'success', record.error);
    const manifest = JSON.parse(await readFile(join(archiveRoot, 'v', `${record.archive}.json`), 'utf8')) as ArchiveManifest;
    return { record, manifest };
  }

  for (const [snapshot, expected] of [
    ['sync', ['prepare', 'archive-pre', 'room-check', 'live-pass', 'stop', 'stopped-pass', 'start', 'archive', 'fsync', 'manifest', 'archive-post', 'prune']],
    ['copy', ['prepare', 'archive-pre', 'room-check', 'stop', 'stopped-pass', 'start', 'archive', 'fsync', 'manifest', 'archive-post', 'prune']],
    ['direct', ['prepare', 'archive-pre', 'stop', 'archive', 'fsync', 'start', 'manifest', 'archive-post', 'prune']],
  ] as const) {
    it(`times each phase of a ${snapshot} run, within the run's duration`, async () => {
      const { record, manifest } = await backUp(snapshot);
      const phases = record.phases ?? {};
      assert.deepEqual(Object.keys(phases), expected);
      assert.ok((phases.stop ?? 0) >= STOP_MS - 5, `stop ${phases.stop} ms`);
      assert.ok(sum(phases) <= record.durationMs, `${sum(phases)} ms of phases in a ${record.durationMs} ms run`);
      // The downtime runs from the stop to the start, so it holds the whole stop.
      assert.ok((record.downtimeMs ?? 0) >= (phases.stop ?? 0));
      // The manifest, written before verify, archive-post and prune, holds the phases up to it.
      const kept = manifest.durations.phases ?? {};
      assert.deepEqual(Object.keys(kept), expected.slice(0, expected.indexOf('manifest')));
      assert.ok(sum(kept) <= manifest.durations.totalMs);
    });
  }

  it('are written for the log in the order they run', () => {
    assert.equal(describePhases({ prune: 3, 'live-pass': 1_500, stop: 310 }), 'live-pass 1.5 s, stop 310 ms, prune 3 ms');
    assert.equal(RUN_PHASES[0], 'prepare');
  });
});

describe('PhaseTimer', () => {
  it('adds up repeated phases, counts failed work, and never exceeds the total', async () => {
    const timer = new PhaseTimer<'a' | 'b'>();
    await timer.time('a', () => delay(20));
    await assert.rejects(timer.time('b', async () => {
      await delay(20);
      throw new Error('failed work');
    }), /failed work/);
    await timer.time('a', () => delay(20));
    const timings = timer.timings();
    assert.deepEqual(Object.keys(timings), ['a', 'b']);
    assert.ok((timings.a ?? 0) >= 38, `a ${timings.a}`);
    assert.ok((timings.b ?? 0) >= 18, `b ${timings.b}`);
    assert.ok((timings.a ?? 0) + (timings.b ?? 0) <= timer.elapsedMs());
  });
});
