import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { ContainerStop } from '../../src/vocabulary/container-stop';
import { backupStatus, isRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

interface StopRecord {
  result: string;
  error?: string;
  downtimeMs?: number;
  stops?: ContainerStop[];
  warning?: string;
}

/** An app whose PID 1 ignores SIGTERM: only the engine's kill after the stop timeout ends it. */
const DEAF_TO_TERM = ['sh', '-c', 'trap "" TERM; while true; do sleep 0.2; done'];
/** An app that shuts down on SIGUSR1 only, and leaves a mark in the volume when it gets it. */
const STOPS_ON_USR1 = ['sh', '-c', 'trap "" TERM; trap "echo usr1 > /data/got-signal; exit 0" USR1; while true; do sleep 0.2; done'];

/**
 * Through the installed plugin, with STOP_TIMEOUT unset (its default): each container is stopped with
 * its own stop signal and stop timeout, as `docker stop` would, and the run record says how it went.
 */
describe("stopping honours each container's stop signal and stop timeout", { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('a container with --stop-timeout 2 that ignores SIGTERM is killed after 2 s, and the run says so', async () => {
    const volume = `${prefix}deaf`;
    const app = `${prefix}deaf-app`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await docker(['run', '-d', '--name', app, '--stop-timeout', '2', '-v', `${volume}:/data`, TEST_IMAGE, ...DEAF_TO_TERM]);

    const outcome = await backupvolCli(['backup', volume]);
    assert.equal(outcome.code, 0, outcome.stderr + outcome.stdout);
    assert.match(outcome.stdout, new RegExp(`${app} ignored SIGTERM and was killed after 2 s`));

    const status = (await backupStatus(volume)).lastRun as unknown as StopRecord;
    assert.equal(status.result, 'success', status.error);
    const [stop] = status.stops ?? [];
    assert.deepEqual({ container: stop?.container, signal: stop?.signal, timeoutSeconds: stop?.timeoutSeconds, killed: stop?.killed }, {
      container: app,
      signal: 'SIGTERM',
      timeoutSeconds: 2,
      killed: true,
    });
    // Its own 2 s, not Docker's 10 s nor a plugin-wide timeout: the stop took about 2 s.
    assert.ok(stop.ms >= 2_000 && stop.ms < 8_000, `stopped in ${stop.ms} ms`);
    assert.ok((status.downtimeMs ?? 0) < 9_000, `downtime ${status.downtimeMs} ms`);
    assert.match(status.warning ?? '', new RegExp(`${app} ignored SIGTERM and was killed after 2 s`));
    assert.ok(await isRunning(app), 'the app runs again');
  });

  it('a container with a custom stop signal gets that signal, stops on it, and is not killed', async () => {
    const volume = `${prefix}usr1`;
    const app = `${prefix}usr1-app`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await docker(['run', '-d', '--name', app, '--stop-signal', 'SIGUSR1', '-v', `${volume}:/data`, TEST_IMAGE, ...STOPS_ON_USR1]);

    const record = await backupvolJson<StopRecord>(['backup', volume]);
    assert.equal(record.result, 'success', record.error);
    const [stop] = record.stops ?? [];
    assert.equal(stop?.signal, 'SIGUSR1');
    assert.equal(stop?.killed, false, `stopped in ${stop?.ms} ms`);
    assert.ok(stop.ms < 5_000, `stopped in ${stop.ms} ms, well before Docker's 10 s`);
    assert.equal(record.warning, undefined);
    assert.equal((await readFile(join(hostVolumeDir(volume), 'data', 'got-signal'), 'utf8')).trim(), 'usr1');
    assert.ok(await isRunning(app), 'the app runs again');
  });

  it('a restore over the volume reports its stops the same way', async () => {
    const volume = `${prefix}deaf-restore`;
    const app = `${prefix}deaf-restore-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-stop=none', volume]);
    await docker(['run', '-d', '--name', app, '--stop-timeout', '2', '-v', `${volume}:/data`, TEST_IMAGE, ...DEAF_TO_TERM]);
    const backup = await backupvolJson<StopRecord>(['backup', volume]);
    assert.equal(backup.result, 'success', backup.error);

    // Attached containers always stop for the swap, whatever backup-stop says.
    const outcome = await backupvolCli(['restore', volume]);
    assert.equal(outcome.code, 0, outcome.stderr + outcome.stdout);
    assert.match(outcome.stdout, new RegExp(`stopped: ${app} ignored SIGTERM and was killed after 2 s`));
    const restore = (await backupStatus(volume)).lastRestore as unknown as StopRecord;
    assert.equal(restore.result, 'success', restore.error);
    assert.equal(restore.stops?.[0]?.killed, true);
    assert.match(restore.warning ?? '', new RegExp(`${app} ignored SIGTERM and was killed after 2 s`));
    assert.ok(await isRunning(app), 'the app runs again');
  });
});
