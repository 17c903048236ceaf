import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRuns, type RunsDeps } from '../../src/runs/runs';
import type { BackupDeps } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import { VolumeScheduler } from '../../src/runs/volume-scheduler';
import { RunStateStore } from '../../src/runs/run-state';
import { LocalTarget } from '../../src/targets/local-target';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { ConcurrencyLimit } from '../../src/shared/concurrency-limit';
import { VolumeActivity } from '../../src/runs/volume-activity';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import type { Volume } from '../../src/volumes/volume-registry';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

// Shared by backup-runs.test.ts and notify-webhook.test.ts (no tests here).

/** The runs layer over a fake engine with one volume `v` (scheduled at 3:00, direct snapshot) used by `app`. */
export async function setUpRuns(
  extra: Partial<RunsDeps> | ((parts: { docker: FakeDocker; journal: StopJournal; activity: VolumeActivity }) => Partial<RunsDeps>) = {},
  backupExtra: Partial<BackupDeps> = {},
) {
  const dir = await makeTempDir('runs');
  const volumesDir = join(dir, 'volumes');
  const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
  const journal = new StopJournal(dir);
  const activity = new VolumeActivity();
  const scheduler = new VolumeScheduler('UTC');
  const target = new LocalTarget(join(dir, 'archive'));
  const targets = new TargetSet(join(dir, 'archive'), loadRemoteSettings({}));
  const runs = createRuns({
    backup: { docker, journal, targets, stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger: createSilentLogger(), ...backupExtra },
    readArchives: (names) => targets.reader(names),
    scheduler,
    limit: new ConcurrencyLimit(1),
    runStates: new RunStateStore(volumesDir),
    stagingRoot: join(dir, 'staging'),
    dataPath: (name) => join(volumesDir, name, 'data'),
    dockerReady: Promise.resolve(),
    activity,
    logger: createSilentLogger(),
    ...(typeof extra === 'function' ? extra({ docker, journal, activity }) : extra),
  });
  await mkdir(join(volumesDir, 'v', 'data'), { recursive: true });
  await writeFile(join(volumesDir, 'v', 'data', 'file.txt'), 'content');
  const raw = { 'backup-schedule': '0 3 * * *', 'backup-snapshot': 'direct' };
  const volume: Volume = {
    record: { name: 'v', createdAt: new Date().toISOString(), options: raw, mountIds: [] },
    options: parseVolumeOptions(raw, { schedule: 'none', retention: '', encryption: 'none' }),
  };
  return { dir, volumesDir, docker, scheduler, target, runs, volume };
}
