import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../../src/vocabulary/run-record';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import type { TargetName } from '../../src/vocabulary/volume-options';
import { completeArchives } from '../helpers/archives';
import { backupStatus, isRunning } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { backupvolCli } from '../helpers/host-cli';
import { createPlugin, enablePlugin, installFreshPlugin, PLUGIN, pluginId, removePlugin } from '../helpers/plugin';
import { markEngineLog, pluginLogSince, type LogMark } from '../helpers/engine-log';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { startSftpServer, type SftpTestServer } from '../helpers/sftp-server';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { startWebdavServer, type WebdavTestServer } from '../helpers/webdav-server';
import { eventually } from '../helpers/eventually';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The real plugin in the real engine backing up to S3 (s3rver), SFTP (Debian's sshd) and WebDAV (Debian's
 * apache2) servers that this test starts on 127.0.0.1: the plugin runs on the host's network, so it
 * reaches them as a user's plugin reaches a server on its host.
 */
describe('remote targets', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  let s3: S3TestServer;
  let sftp: SftpTestServer;
  let webdav: WebdavTestServer;
  let hooks: WebhookReceiver;
  let settings: Record<string, string> = {};
  let logMark: LogMark;

  before(async () => {
    await assertTestImage();
    [s3, sftp, webdav, hooks] = await Promise.all([startS3Server(), startSftpServer(), startWebdavServer(), startWebhookReceiver()]);
    settings = {
      NOTIFY_URLS: hooks.url('/hook'),
      NOTIFY_LEVEL: 'error',
      ...s3.settings,
      S3_PREFIX: 'e2e',
      SFTP_HOST: sftp.host,
      SFTP_PORT: String(sftp.port),
      SFTP_USER: sftp.user,
      SFTP_PASSWORD: sftp.password,
      SFTP_PATH: sftp.storeDir,
      SFTP_KNOWN_HOSTS: sftp.knownHosts,
      WEBDAV_URL: webdav.url,
      WEBDAV_USERNAME: webdav.username,
      WEBDAV_PASSWORD: webdav.password,
      WEBDAV_PATH: '/backups',
    };
    logMark = await markEngineLog();
    await removePlugin();
    await createPlugin();
    await enablePlugin();
  });

  after(async () => {
    // The plugin goes back to its defaults (no settings pointing at servers that are gone).
    await installFreshPlugin().catch((error: Error) => console.error(`reinstalling the plugin: ${error.message}`));
    await Promise.all([s3?.close(), sftp?.close(), webdav?.close(), hooks?.close()]);
  });

  /** The targets as the plugin sees them, read from the test process with the plugin's own code. */
  const fromTest = (name: TargetName) => new TargetSet('/var/lib/backupvol/archive', loadRemoteSettings(settings)).get(name);

  async function volumeWithData(name: string, target: string, extra: string[] = []): Promise<void> {
    await docker(['volume', 'create', '-d', PLUGIN, '-o', `backup-target=${target}`, '-o', 'backup-snapshot=direct', ...extra, name]);
    await docker(['run', '--rm', '-v', `${name}:/data`, TEST_IMAGE, 'sh', '-c', 'seq 1 20000 > /data/numbers && echo v1 > /data/version']);
  }

  async function backup(volume: string): Promise<{ code: number; record: RunRecord }> {
    const outcome = await backupvolCli(['backup', volume, '--json']);
    return { code: outcome.code, record: JSON.parse(outcome.stdout) as RunRecord };
  }

  async function readVersion(volume: string): Promise<string> {
    return (await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'cat', '/data/version'])).trim();
  }

  it('refuses at create a target whose settings are missing, naming the setting', async () => {
    await assert.rejects(
      docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-target=local,sftp', `${prefix}unset`]),
      /backup-target=sftp needs the plugin setting\(s\) SFTP_HOST, SFTP_USER/,
    );
    // Now the settings, as a user gives them.
    await docker(['plugin', 'disable', '-f', PLUGIN]);
    await docker(['plugin', 'set', PLUGIN, ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)]);
    await enablePlugin();
  });

  for (const target of ['s3', 'sftp', 'webdav'] as const) {
    it(`backs up to ${target}, prunes there, restores and verifies from there`, async () => {
      const volume = `${prefix}${target}`;
      const app = `${prefix}${target}-app`;
      await volumeWithData(volume, target, ['-o', 'backup-retention=1']);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);

      const first = await backup(volume);
      assert.equal(first.code, 0, first.record.error);
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // archive names carry the second
      const second = await backup(volume);
      assert.equal(second.code, 0, second.record.error);
      assert.deepEqual(second.record.pruned, [first.record.archive]);
      assert.deepEqual(second.record.targets, [{ name: target, result: 'success' }]);
      assert.deepEqual((await fromTest(target).list(volume)).map((archive) => archive.name), [second.record.archive]);
      assert.deepEqual(await completeArchives(volume), [], 'nothing went to the local target');
      const status = await backupStatus(volume);
      assert.equal(status.target, target);
      assert.equal(status.archives, 1);
      assert.ok(!JSON.stringify(status).includes(settings.S3_SECRET_ACCESS_KEY) || target !== 's3');

      await docker(['exec', app, 'sh', '-c', 'echo v2 > /data/version']);
      const restored = await backupvolCli(['restore', volume]);
      assert.equal(restored.code, 0, restored.stderr + restored.stdout);
      assert.equal(await readVersion(volume), 'v1');
      assert.ok(await isRunning(app), 'the app runs again after the restore');
      const verified = await backupvolCli(['verify', volume]);
      assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    });
  }

  it('backs up to local and s3 at once; a new volume starts from the s3 copy', async () => {
    const volume = `${prefix}both`;
    await volumeWithData(volume, 'local,s3');
    const { code, record } = await backup(volume);
    assert.equal(code, 0, record.error);
    assert.deepEqual(record.targets?.map((outcome) => outcome.name), ['local', 's3']);
    assert.deepEqual(await completeArchives(volume), [record.archive]);
    assert.deepEqual((await fromTest('s3').list(volume)).map((archive) => archive.name), [record.archive]);

    const copy = `${prefix}from-s3`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-target=s3', '-o', `restore-from=${volume}@latest`, copy]);
    assert.equal(await readVersion(copy), 'v1');
  });

  it('an unreachable target fails the run, names the target, restarts the containers and keeps the other copy', async () => {
    const volume = `${prefix}down`;
    const app = `${prefix}down-app`;
    const alone = `${prefix}down-alone`;
    const aloneApp = `${prefix}down-alone-app`;
    await volumeWithData(volume, 'local,webdav');
    await volumeWithData(alone, 'webdav');
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    await docker(['run', '-d', '--name', aloneApp, '-v', `${alone}:/data`, TEST_IMAGE, ...IDLE]);
    await webdav.close();
    try {
      const partly = await backup(volume);
      assert.equal(partly.code, 1);
      assert.equal(partly.record.result, 'failed');
      assert.match(partly.record.error ?? '', /^target webdav: /);
      assert.deepEqual(partly.record.stopped, [app]);
      assert.ok(await isRunning(app), 'the app runs again');
      assert.deepEqual(await completeArchives(volume), [partly.record.archive], 'the local copy stands');
      const status = await backupStatus(volume);
      assert.equal(status.lastRun?.result, 'failed');
      assert.match(status.lastRun?.error ?? '', /target webdav: /);
      assert.ok(!JSON.stringify(status).includes(settings.WEBDAV_PASSWORD));

      // With no target answering, the run fails before anything is stopped.
      const none = await backup(alone);
      assert.equal(none.code, 1);
      assert.match(none.record.error ?? '', /^target webdav: /);
      assert.ok(await isRunning(aloneApp));
    } finally {
      webdav = await startWebdavServer();
    }
  });

  it('a target that refuses the upload fails the run cleanly, names the target, and the failure is notified', async () => {
    const volume = `${prefix}refused`;
    const app = `${prefix}refused-app`;
    await volumeWithData(volume, 'sftp');
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    // The volume's folder on the server exists but its user may not write there: the server refuses.
    const refusing = join(sftp.storeDir, volume);
    await mkdir(refusing);
    await chmod(refusing, 0o555);
    const posted = hooks.received.length;

    const { code, record } = await backup(volume);
    assert.equal(code, 1);
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /^target sftp: /);
    assert.deepEqual(record.stopped, [app]);
    assert.ok(await isRunning(app), 'the app runs again');
    assert.deepEqual(await fromTest('sftp').list(volume), [], 'nothing complete-looking on the server');
    assert.match((await backupStatus(volume)).lastRun?.error ?? '', /target sftp: /);
    await eventually('the webhook got the failure', async () => hooks.received.length > posted, 30_000);
    const post = hooks.received[hooks.received.length - 1];
    assert.equal(post.body.volume, volume);
    assert.equal(post.body.result, 'failed');
    assert.match(post.body.text, /FAILED.*target sftp/);
    assert.ok(!JSON.stringify(hooks.received).includes(settings.SFTP_PASSWORD), 'no secret in a notification');
  });

  it('no target secret appears in the plugin log or in any volume status', async () => {
    const log = (await pluginLogSince(logMark, [await pluginId()])).join('\n');
    assert.match(log, /Archiving volume .* to sftp/, 'the plugin log was found');
    const names = (await docker(['volume', 'ls', '--quiet'])).split('\n').filter((name) => name.startsWith(prefix));
    const statuses = await docker(['volume', 'inspect', ...names]);
    for (const key of ['S3_SECRET_ACCESS_KEY', 'SFTP_PASSWORD', 'WEBDAV_PASSWORD']) {
      assert.ok(settings[key] && settings[key].length >= 4, `${key} is set for the test`);
      assert.ok(!log.includes(settings[key]), `${key} is in the plugin log`);
      assert.ok(!statuses.includes(settings[key]), `${key} is in a volume status`);
    }
  });
});
