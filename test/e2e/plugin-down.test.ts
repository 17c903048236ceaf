import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { allArchiveFiles } from '../helpers/archives';
import { isRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolCli } from '../helpers/host-cli';
import { enablePlugin, installFreshPlugin, PLUGIN, PLUGIN_PROCESS, pluginEnabled } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

/**
 * Kills every plugin process the moment it appears, for `seconds`: the engine restarts a killed plugin,
 * but when the new process dies before the engine's socket probe reaches it (~0.5 s), the engine gives up
 * after ~12 s and marks the plugin disabled (moby's pluginPostStart), with no log line of the plugin's.
 */
function killEveryPluginProcess(seconds: number): Promise<void> {
  const script = `end=$((SECONDS + ${seconds})); while [ $SECONDS -lt $end ]; do pkill -KILL -f '${PLUGIN_PROCESS}'; sleep 0.02; done`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

describe('a killed plugin that the engine does not bring back', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const volume = `${prefix}down`;
  const app = `${prefix}down-app`;

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  after(async () => {
    await docker(['rm', '-f', app]).catch(() => undefined);
    await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  });

  it('the CLI says the plugin is down; backupvol recover starts it and waits for what the run stopped', async () => {
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=direct', '-o', 'backup-schedule=*/10 * * * * *', volume]);
    // Random data archives slowly enough (direct mode: stopped during the whole archive) to be caught.
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'dd', 'if=/dev/urandom', 'of=/data/random', 'bs=1M', 'count=600']);
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    await eventually('the app stopped by a backup in progress', async () => {
      const partial = (await allArchiveFiles(volume)).some((name) => name.startsWith('.partial-'));
      return partial && !(await isRunning(app));
    }, 90_000);

    // Enabled again at the end whatever happens: the prefix's clean-up needs the plugin to remove the volume.
    try {
      await killEveryPluginProcess(8);
      await eventually('the engine gave up restarting the plugin', async () => !(await pluginEnabled()), 60_000);
      assert.equal(await isRunning(app), false, 'nothing started the app: no plugin process ever got that far');

      const ls = await backupvolCli(['ls']);
      assert.equal(ls.code, 1);
      assert.match(ls.stderr, /the backupvol plugin is disabled .*the engine gave up restarting it after its process died/);
      assert.match(ls.stderr, /backupvol recover/);
      assert.match(ls.stderr, /docker plugin enable backupvol/);

      const recovered = await backupvolCli(['recover', '--json']);
      assert.equal(recovered.code, 0, recovered.stdout + recovered.stderr);
      assert.deepEqual(JSON.parse(recovered.stdout), { wasRunning: false, volumes: [{ volume, stillDown: [] }] });
      assert.ok(await isRunning(app), 'the app runs once backupvol recover returned');
      assert.equal((await backupvolCli(['ls'])).code, 0, 'the plugin answers again');
      const running = await backupvolCli(['recover']);
      assert.equal(running.code, 0);
      assert.match(running.stdout, /The backupvol plugin is running/);
    } finally {
      if (!(await pluginEnabled())) await enablePlugin();
    }
  });
});
