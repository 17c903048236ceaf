import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HOST_ARCHIVE_DIR } from '../helpers/archives';
import { docker, dockerFailure, run } from '../helpers/docker-cli';
import { markEngineLog, pluginLogSince, type LogMark } from '../helpers/engine-log';
import { eventually } from '../helpers/eventually';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { createPlugin, enablePlugin, HOST_DATA_DIR, hostVolumeDir, installFreshPlugin, PLUGIN, pluginId, removePlugin } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const execFileAsync = promisify(execFile);

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

const FILL = [
  'mkdir -p /data/docs/deep /data/empty',
  'seq 1 5000 > /data/docs/numbers',
  'echo private > /data/docs/deep/private && chmod 600 /data/docs/deep/private',
  'ln -s docs/numbers /data/link',
  'dd if=/dev/urandom of=/data/random bs=1024 count=256 2>/dev/null',
].join(' && ');
const CHANGE = 'echo changed > /data/changed && rm -rf /data/docs/deep';

interface RunResult {
  result: string;
  archive?: string;
  error?: string;
}

function dataDir(volume: string): string {
  return join(hostVolumeDir(volume), 'data');
}

/** Removes the plugin, creates it afresh from plugin/, applies `docker plugin set` and enables it. */
async function installWithSettings(settings: Record<string, string>): Promise<string> {
  await removePlugin(PLUGIN);
  await createPlugin(PLUGIN);
  await setAndEnable(settings);
  return pluginId(PLUGIN);
}

/** Settings change only while the plugin is disabled (-f: its volumes exist; they are adopted again). */
async function reconfigure(settings: Record<string, string>): Promise<void> {
  await docker(['plugin', 'disable', '-f', PLUGIN]);
  await setAndEnable(settings);
}

async function setAndEnable(settings: Record<string, string>): Promise<void> {
  await docker(['plugin', 'set', PLUGIN, ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)]);
  await enablePlugin(PLUGIN);
}

/** Decrypts a stored archive with a CLI on the host and extracts it with tar: what a user gets back by hand. */
async function openWithCli(volume: string, archive: string, decrypt: string[]): Promise<string> {
  const into = await mkdtemp(join(tmpdir(), 'bvt-decrypted-'));
  const decompress = archive.includes('.tar.zst') ? 'zstd -d -c' : 'gzip -d -c';
  const script = `"$@" "${join(HOST_ARCHIVE_DIR, volume, archive)}" | ${decompress} | tar -x -C "${into}"`;
  await run('bash', ['-o', 'pipefail', '-c', script, 'open', ...decrypt], { timeoutMs: 120_000 });
  return into;
}

describe('encryption and notifications with the real plugin', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  const gpgVolume = `${prefix}gpg`;
  const ageVolume = `${prefix}age`;
  const secretsDir = join(HOST_DATA_DIR, `${prefix}secrets`);
  const gpgPassphrase = `gpg-${randomBytes(12).toString('hex')}`;
  const wrongPassphrase = `wrong-${randomBytes(12).toString('hex')}`;
  const hookToken = `hooktoken${randomBytes(8).toString('hex')}`;
  let hooks: WebhookReceiver;
  const pluginIds: string[] = [];
  const toRemove: string[] = [];
  let ageKey = { file: '', identity: '', recipient: '' };
  let wrongAgeKey = { file: '', identity: '', recipient: '' };
  let hookUrl = '';
  let logMark: LogMark;
  let defaultsRestored = false;
  const settings = () => ({
    GPG_PASSPHRASE: gpgPassphrase,
    AGE_RECIPIENTS: ageKey.recipient,
    AGE_IDENTITY_FILE: ageKey.file,
    NOTIFY_URLS: hookUrl,
    NOTIFY_LEVEL: 'error',
    LOG_LEVEL: 'debug',
  });
  const secrets = () => [gpgPassphrase, wrongPassphrase, ageKey.identity, wrongAgeKey.identity, hookToken];

  const makeKey = async (name: string) => {
    const file = join(secretsDir, `${name}.txt`);
    await run('age-keygen', ['-o', file]);
    const identity = (await readFile(file, 'utf8')).split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-')) as string;
    return { file, identity, recipient: (await run('age-keygen', ['-y', file])).trim() };
  };

  before(async () => {
    await assertTestImage();
    // The plugin sees the host's /var/lib at /var/lib: a secret file there is a NAME_FILE path it can read.
    await mkdir(secretsDir, { mode: 0o700 });
    ageKey = await makeKey('age-key');
    wrongAgeKey = await makeKey('wrong-age-key');
    // The plugin runs with host networking (config.json), so it reaches a receiver on 127.0.0.1.
    hooks = await startWebhookReceiver();
    hookUrl = hooks.url(`/hook/${hookToken}`);
    logMark = await markEngineLog();
    pluginIds.push(await installWithSettings(settings()));
  });

  after(async () => {
    for (const dir of toRemove) await rm(dir, { recursive: true, force: true });
    // Leave the plugin as the other suites expect it: a fresh install with default settings.
    if (!defaultsRestored) await installFreshPlugin().catch(() => undefined);
    await rm(secretsDir, { recursive: true, force: true });
    await hooks?.close();
  });

  const expected: Record<string, string> = {};

  it('gpg and age volumes back up; gpg -d and age -d open their archives', async () => {
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-encryption=gpg', gpgVolume]);
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-encryption=age', '-o', 'backup-compression=zstd', ageVolume]);
    for (const volume of [gpgVolume, ageVolume]) await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);

    const gpgRun = await backupvolJson<RunResult>(['backup', gpgVolume]);
    assert.equal(gpgRun.result, 'success', gpgRun.error);
    assert.match(gpgRun.archive ?? '', /\.tar\.gz\.gpg$/);
    const passFile = join(secretsDir, 'gpg-pass');
    await writeFile(passFile, gpgPassphrase, { mode: 0o600 });
    const gnupgHome = await mkdtemp(join(tmpdir(), 'bvt-gnupg-'));
    toRemove.push(gnupgHome);
    expected[gpgVolume] = await openWithCli(gpgVolume, gpgRun.archive as string, [
      'gpg', '--homedir', gnupgHome, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase-file', passFile, '-d',
    ]);
    await execFileAsync('gpgconf', ['--homedir', gnupgHome, '--kill', 'gpg-agent']).catch(() => undefined);
    toRemove.push(expected[gpgVolume]);
    await assertSameTree(expected[gpgVolume], dataDir(gpgVolume), { mtimeToleranceNs: SECOND_NS });

    const ageRun = await backupvolJson<RunResult>(['backup', ageVolume]);
    assert.equal(ageRun.result, 'success', ageRun.error);
    assert.match(ageRun.archive ?? '', /\.tar\.zst\.age$/);
    expected[ageVolume] = await openWithCli(ageVolume, ageRun.archive as string, ['age', '-d', '-i', ageKey.file]);
    toRemove.push(expected[ageVolume]);
    await assertSameTree(expected[ageVolume], dataDir(ageVolume), { mtimeToleranceNs: SECOND_NS });

    const manifest = JSON.parse(await readFile(join(HOST_ARCHIVE_DIR, ageVolume, `${ageRun.archive}.json`), 'utf8')) as { encryption: string };
    assert.equal(manifest.encryption, 'age');
  });

  it('restore and verify decrypt with the plugin settings', async () => {
    for (const volume of [gpgVolume, ageVolume]) {
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGE]);
      const verified = await backupvolCli(['verify', volume, '--json']);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      const restored = await backupvolJson<RunResult>(['restore', volume]);
      assert.equal(restored.result, 'success', restored.error);
      await assertSameTree(expected[volume], dataDir(volume), { mtimeToleranceNs: SECOND_NS });
    }
  });

  it('a wrong key fails restore with a clear error and leaves the volume untouched', async () => {
    for (const volume of [gpgVolume, ageVolume]) await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGE]);
    const before: Record<string, string> = {};
    for (const volume of [gpgVolume, ageVolume]) {
      before[volume] = await mkdtemp(join(tmpdir(), 'bvt-before-'));
      toRemove.push(before[volume]);
      await run('cp', ['-a', `${dataDir(volume)}/.`, before[volume]]);
    }
    await reconfigure({ GPG_PASSPHRASE: wrongPassphrase, AGE_IDENTITY_FILE: wrongAgeKey.file });

    const gpg = await backupvolCli(['restore', gpgVolume, '--json']);
    assert.equal(gpg.code, 1);
    assert.match(gpg.stdout + gpg.stderr, /cannot decrypt it with GPG_PASSPHRASE \(wrong key or damaged archive\)/);
    const age = await backupvolCli(['restore', ageVolume, '--json']);
    assert.equal(age.code, 1);
    assert.match(age.stdout + age.stderr, /cannot decrypt it with AGE_IDENTITY \(wrong key or damaged archive\)/);
    for (const volume of [gpgVolume, ageVolume]) await assertSameTree(before[volume], dataDir(volume));

    await reconfigure(settings());
  });

  it('a failed backup is posted to the webhook; successful ones are not at NOTIFY_LEVEL=error', async () => {
    const app = `${prefix}app`;
    await docker([
      'run', '-d', '--name', app, '-v', `${gpgVolume}:/data`,
      '--label', 'docker-volume-backup.archive-pre=echo pre-failed; exit 3',
      TEST_IMAGE, ...IDLE,
    ]);
    const outcome = await backupvolCli(['backup', gpgVolume, '--json']);
    assert.equal(outcome.code, 1, outcome.stdout);
    await eventually('the webhook got the failure', async () => hooks.received.length > 0, 30_000);
    assert.equal(hooks.received.length, 1, 'one failure; no post for the successful runs before it');
    const [post] = hooks.received;
    assert.equal(post.path, `/hook/${hookToken}`);
    assert.equal(post.body.volume, gpgVolume);
    assert.equal(post.body.result, 'failed');
    assert.match(post.body.error ?? '', /archive-pre/);
    assert.match(post.body.text, /FAILED/);
    assert.equal(post.body.content, post.body.text);
    await docker(['rm', '-f', app]);
  });

  it('no secret appears in the plugin log or in docker volume inspect', async () => {
    const lines = await pluginLogSince(logMark, pluginIds);
    const log = lines.join('\n');
    assert.match(log, new RegExp(`Backed up volume ${gpgVolume}`), 'the plugin log was found');
    const inspect = await docker(['volume', 'inspect', gpgVolume, ageVolume]);
    for (const secret of secrets()) {
      assert.ok(!log.includes(secret), 'a secret is in the plugin log');
      assert.ok(!inspect.includes(secret), 'a secret is in docker volume inspect');
    }
  });

  it('docker volume create names the missing key setting', async () => {
    pluginIds.push(await installFreshPlugin());
    defaultsRestored = true;
    const gpg = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', 'backup-encryption=gpg', `${prefix}nokey-gpg`]);
    assert.match(gpg.message, /backup-encryption=gpg: .*GPG_PASSPHRASE or GPG_PASSPHRASE_FILE/);
    const age = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', 'backup-encryption=age', `${prefix}nokey-age`]);
    assert.match(age.message, /backup-encryption=age: .*AGE_RECIPIENTS/);
  });
});
