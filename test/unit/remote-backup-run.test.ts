import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup, type BackupDeps } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { LABELS } from '../../src/engine/plan-quiesce';
import { StopJournal } from '../../src/engine/stop-journal';
import { stageArchive } from '../../src/runs/restore/stage-archive';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { container, FakeDocker } from '../helpers/fake-docker';
import { freePort } from '../helpers/free-port';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { startSftpServer, type SftpTestServer } from '../helpers/sftp-server';
import { makeTempDir } from '../helpers/temp-dir';

/** Whole backup runs to several targets at once, one of them a real S3-compatible server. */
describe('a backup run with several targets', () => {
  let s3: S3TestServer;
  before(async () => {
    s3 = await startS3Server();
  });
  after(() => s3?.close());

  async function setUp(env: Record<string, string>) {
    const dir = await makeTempDir('multi-target');
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'file.txt'), 'backed up twice');
    const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
    const targets = new TargetSet(join(dir, 'archive'), loadRemoteSettings(env));
    const deps: BackupDeps = { docker, journal: new StopJournal(dir), targets, stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger: createSilentLogger() };
    const run = (raw: Record<string, string>) =>
      runBackup(deps, {
        volume: 'v',
        options: parseVolumeOptions({ 'backup-snapshot': 'direct', ...raw }, { schedule: 'none', retention: '', encryption: 'none' }),
        rawOptions: raw,
        dataPath: data,
        stagingDir: join(dir, 'staging'),
        trigger: 'manual',
      });
    return { dir, docker, targets, run };
  }

  it('streams one archive to local and s3, prunes each, and restores from either', async () => {
    const { dir, targets, run } = await setUp(s3.settings);
    const first = await run({ 'backup-target': 'local,s3', 'backup-retention': '1' });
    assert.equal(first.result, 'success', first.error);
    assert.deepEqual(first.targets, [
      { name: 'local', result: 'success' },
      { name: 's3', result: 'success' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // archive names carry the second
    const second = await run({ 'backup-target': 'local,s3', 'backup-retention': '1' });
    assert.equal(second.result, 'success', second.error);
    assert.deepEqual(second.pruned, [first.archive]);
    for (const name of ['local', 's3'] as const) {
      const archives = await targets.get(name).list('v');
      assert.deepEqual(archives.map((archive) => archive.name), [second.archive], name);
      const staged = await stageArchive(targets.reader([name]), { sourceVolume: 'v', archive: archives[0], encryption: [], stagingDir: join(dir, `restore-${name}`) });
      assert.equal(staged.fileCount, 1);
    }
    // Read from the first target listed that holds it.
    assert.equal((await targets.reader(['s3', 'local']).list('v'))[0].target, 's3');
  });

  it('fails the run when one target refuses, keeps the archive in the other, and names the target', async () => {
    const { docker, targets, run } = await setUp({ ...s3.settings, S3_ACCESS_KEY_ID: 'NOT-A-KEY', S3_SECRET_ACCESS_KEY: 'hidden-secret-value' });
    const record = await run({ 'backup-target': 'local,s3' });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /^target s3: /);
    assert.ok(!JSON.stringify(record).includes('hidden-secret-value'));
    assert.deepEqual(record.targets?.map((outcome) => `${outcome.name}:${outcome.result}`), ['local:success', 's3:failed']);
    assert.deepEqual((await targets.get('local').list('v')).map((archive) => archive.name), [record.archive]);
    assert.deepEqual(docker.calls.slice(-1), ['start app']);
  });

  it('fails cleanly before stopping anything when the only target is unreachable', async () => {
    const { docker, run } = await setUp({ ...s3.settings, S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    const record = await run({ 'backup-target': 's3' });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /^target s3: /);
    assert.deepEqual(docker.calls, []);
  });

  // The targets were fine: the error must say what failed, not blame them with "the run failed".
  it('reports no target as a success when the run failed before any upload began (an archive-pre command failed)', async () => {
    const { docker, targets, run } = await setUp(s3.settings);
    docker.containers[0].labels[LABELS.archivePre] = 'dump';
    docker.execResults.set('dump', { exitCode: 2, output: 'no space left' });
    // The S3 server is shared by this file's tests: what earlier runs left there stays as it was.
    const before = { local: await targets.get('local').list('v'), s3: await targets.get('s3').list('v') };
    const record = await run({ 'backup-target': 'local,s3' });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /archive-pre command in container app exited with 2/);
    assert.deepEqual(
      record.targets?.map((outcome) => `${outcome.name} ${outcome.result}`),
      ['local failed', 's3 failed'],
    );
    for (const name of ['local', 's3'] as const) assert.deepEqual(await targets.get(name).list('v'), before[name], name);
  });

  it('reports the archive error itself when the run fails for a reason of the volume, not of a target', async () => {
    const { dir, run } = await setUp(s3.settings);
    await rm(join(dir, 'data'), { recursive: true });
    const record = await run({ 'backup-target': 'local,s3' });
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /ENOENT/);
    assert.doesNotMatch(record.error ?? '', /target /);
    assert.deepEqual(
      record.targets?.map((outcome) => `${outcome.name} ${outcome.result}`),
      ['local failed', 's3 failed'],
    );
  });

  it('reports the archive error itself, not the one target that was down, when the volume is what failed', async () => {
    const { dir, run } = await setUp(s3.settings);
    await rm(join(dir, 'data'), { recursive: true });
    await s3.close();
    const record = await run({ 'backup-target': 'local,s3' });
    s3 = await startS3Server();
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /ENOENT/);
    assert.match(record.targets?.find((outcome) => outcome.name === 's3')?.error ?? '', /target s3: /);
  });

  it('fails before stopping anything when no target answers, naming each', async () => {
    const { dir, docker, run } = await setUp(s3.settings);
    // A local target whose folder cannot be created (a file stands where the folder would be).
    await writeFile(join(dir, 'archive'), 'not a folder');
    await s3.close();
    const record = await run({ 'backup-target': 'local,s3' });
    s3 = await startS3Server();
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /target local: .*; target s3: /);
    assert.deepEqual(docker.calls, []);
  });
});

describe('target settings', () => {
  it('refuses a target whose settings are missing, naming them', () => {
    const targets = new TargetSet('/nonexistent', loadRemoteSettings({ S3_BUCKET: 'b' }));
    assert.throws(() => targets.assertUsable(['local', 's3']), /backup-target=s3 needs the plugin setting\(s\) S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/);
    assert.throws(() => targets.assertUsable(['sftp']), /SFTP_HOST, SFTP_USER, SFTP_PASSWORD \(or SFTP_PASSWORD_FILE\) or SFTP_IDENTITY_FILE/);
    assert.throws(() => targets.assertUsable(['webdav']), /WEBDAV_URL/);
    assert.deepEqual(targets.usable(), ['local']);
  });

  it('makes a target unusable, not the plugin fail to start, when a file setting cannot be read', () => {
    const settings = loadRemoteSettings({
      SFTP_HOST: 'h',
      SFTP_USER: 'u',
      SFTP_IDENTITY_FILE: '/nonexistent/key',
      WEBDAV_URL: 'http://127.0.0.1:1',
      WEBDAV_PASSWORD_FILE: '/nonexistent/password',
    });
    const targets = new TargetSet('/nonexistent', settings);
    assert.throws(() => targets.assertUsable(['sftp']), /SFTP_IDENTITY_FILE \(cannot read \/nonexistent\/key: ENOENT\)/);
    assert.throws(() => targets.assertUsable(['webdav']), /WEBDAV_PASSWORD \(cannot read \/nonexistent\/password: ENOENT\)/);
  });
});

const sftpSkip = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/sbin/sshd') ? 'needs openssh-server' : false;
describe('sftp target: key authentication and host keys', { skip: sftpSkip }, () => {
  let server: SftpTestServer;
  before(async () => {
    server = await startSftpServer();
  });
  after(() => server?.close());

  const env = (extra: Record<string, string>) => ({
    SFTP_HOST: server.host,
    SFTP_PORT: String(server.port),
    SFTP_USER: server.user,
    SFTP_PATH: server.storeDir,
    ...extra,
  });

  it('logs in with SFTP_IDENTITY_FILE and a matching known host', async () => {
    const targets = new TargetSet('/nonexistent', loadRemoteSettings(env({ SFTP_IDENTITY_FILE: server.identityFile, SFTP_KNOWN_HOSTS: server.knownHosts })));
    assert.deepEqual(await targets.get('sftp').list('v'), []);
  });

  it('refuses a server whose host key is not in SFTP_KNOWN_HOSTS', async () => {
    const otherKey = server.knownHosts.replace(/^\S+/, `[127.0.0.1]:${server.port + 1}`);
    const targets = new TargetSet('/nonexistent', loadRemoteSettings(env({ SFTP_PASSWORD: server.password, SFTP_KNOWN_HOSTS: otherKey })));
    await assert.rejects(targets.get('sftp').list('v'), (error: Error) => {
      assert.match(error.message, /^target sftp: the host key of 127\.0\.0\.1:\d+ is not in SFTP_KNOWN_HOSTS/);
      assert.ok(!error.message.includes(server.password));
      return true;
    });
  });
});
