import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { URL } from 'node:url';
import type { RunRecord } from '../../src/vocabulary/run-record';
import { backupStatus, isRunning, waitForRunAfter } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { backupvolCli } from '../helpers/host-cli';
import { createPlugin, enablePlugin, installFreshPlugin, PLUGIN, removePlugin } from '../helpers/plugin';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { startSftpServer, type SftpTestServer } from '../helpers/sftp-server';
import { startStallingServer, type StallingServer } from '../helpers/stalling-server';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { startWebdavServer, type WebdavTestServer } from '../helpers/webdav-server';

/** Small, so that the test shows the bound; the defaults are 60 s and 300 s. */
const STALL_SECONDS = 4;
const HOOK_SECONDS = 4;
/** What the machine (2 shared cores, docker CLI calls of a second) may add to a bound. */
const SLACK_MS = 15_000;
/** The opening requests of a run (listings, the bucket check, an ssh handshake) are smaller than this. */
const STALL_AFTER_BYTES = 256 * 1024;

/**
 * The plugin against servers that hang: each target sits behind a TCP server on 127.0.0.1 that answers
 * the opening requests of a run, then goes silent in the middle of the archive's upload (accepts, sends
 * nothing, reads nothing), and a container whose archive-pre command never ends. Each run fails in time,
 * naming what hung, the containers run again, and the volume and the concurrency slot are freed: another
 * volume's scheduled run (MAX_CONCURRENT_BACKUPS=1) still happens.
 */
describe('timeouts', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  let s3: S3TestServer;
  let sftp: SftpTestServer;
  let webdav: WebdavTestServer;
  const stalling: Record<'s3' | 'sftp' | 'webdav', StallingServer> = {} as never;
  const scheduled = `${prefix}scheduled`;

  before(async () => {
    await assertTestImage();
    [s3, sftp, webdav] = await Promise.all([startS3Server(), startSftpServer(), startWebdavServer()]);
    const upstream = (url: string) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) });
    stalling.s3 = await startStallingServer({ upstream: upstream(s3.endpoint), stallAfterBytes: STALL_AFTER_BYTES });
    stalling.sftp = await startStallingServer({ upstream: { host: sftp.host, port: sftp.port }, stallAfterBytes: STALL_AFTER_BYTES });
    stalling.webdav = await startStallingServer({ upstream: upstream(webdav.url), stallAfterBytes: STALL_AFTER_BYTES });
    const webdavUrl = new URL(webdav.url);
    webdavUrl.port = String(stalling.webdav.port);
    const settings = {
      ...s3.settings,
      S3_ENDPOINT: `http://127.0.0.1:${stalling.s3.port}`,
      SFTP_HOST: '127.0.0.1',
      SFTP_PORT: String(stalling.sftp.port),
      SFTP_USER: sftp.user,
      SFTP_PASSWORD: sftp.password,
      SFTP_PATH: sftp.storeDir,
      WEBDAV_URL: webdavUrl.toString(),
      WEBDAV_USERNAME: webdav.username,
      WEBDAV_PASSWORD: webdav.password,
      TRANSFER_STALL_TIMEOUT: String(STALL_SECONDS),
      HOOK_TIMEOUT: String(HOOK_SECONDS),
    };
    await removePlugin();
    await createPlugin();
    await docker(['plugin', 'set', PLUGIN, ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)]);
    await enablePlugin();
    // Backed up every 5 s to the local target: its runs go on only while no hung run holds the one slot.
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=*/5 * * * * *', '-o', 'backup-retention=1', scheduled]);
  });

  after(async () => {
    await docker(['volume', 'rm', '-f', scheduled]).catch(() => undefined);
    await installFreshPlugin().catch((error: Error) => console.error(`reinstalling the plugin: ${error.message}`));
    await Promise.all([...Object.values(stalling).map((server) => server.close()), s3?.close(), sftp?.close(), webdav?.close()]);
  });

  async function backup(volume: string): Promise<{ code: number; record: RunRecord }> {
    const outcome = await backupvolCli(['backup', volume, '--json']);
    return { code: outcome.code, record: JSON.parse(outcome.stdout) as RunRecord };
  }

  /** Samples whether the container runs while work goes on: when it was first seen stopped, and running again. */
  async function downtimeDuring<T>(container: string, work: Promise<T>): Promise<{ result: T; stoppedAt?: number; backAt?: number }> {
    let done = false;
    let stoppedAt: number | undefined;
    let backAt: number | undefined;
    const sampling = (async () => {
      while (!done && backAt === undefined) {
        const running = await isRunning(container);
        if (!running && stoppedAt === undefined) stoppedAt = Date.now();
        if (running && stoppedAt !== undefined) backAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    try {
      return { result: await work, stoppedAt, backAt };
    } finally {
      done = true;
      await sampling;
    }
  }

  async function assertScheduledRunAfter(since: Date): Promise<void> {
    const status = await waitForRunAfter(scheduled, since, 60_000);
    assert.equal(status.lastRun?.result, 'success', status.lastRun?.error ?? '');
  }

  for (const target of ['s3', 'sftp', 'webdav'] as const) {
    it(`a ${target} server that hangs mid-upload in direct mode: the run fails in time, naming it, and the app runs again`, async (t) => {
      const volume = `${prefix}${target}`;
      const app = `${prefix}${target}-app`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', `backup-target=${target}`, '-o', 'backup-snapshot=direct', volume]);
      // Incompressible and larger than the buffers between the archive and the server (S3: two 5 MiB parts).
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', 'head -c 16000000 /dev/urandom > /data/blob']);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      const stalledBefore = stalling[target].stalled;

      const { result, stoppedAt, backAt } = await downtimeDuring(app, backup(volume));
      const { code, record } = result;
      assert.equal(code, 1, JSON.stringify(record));
      assert.ok(stalling[target].stalled > stalledBefore, 'the upload did reach the silent server');
      assert.match(record.error ?? '', new RegExp(`^target ${target}: no (progress|answer) for ${STALL_SECONDS} s while .*\\(TRANSFER_STALL_TIMEOUT\\)`));
      assert.deepEqual(record.stopped, [app]);
      assert.ok(await isRunning(app), 'the app runs again');
      assert.ok(stoppedAt !== undefined, 'the app was seen stopped (direct mode)');
      const downMs = (backAt ?? Date.now()) - stoppedAt;
      t.diagnostic(`${target}: app down about ${downMs} ms (stall timeout ${STALL_SECONDS} s); ${record.error}`);
      assert.ok(downMs < STALL_SECONDS * 1000 + SLACK_MS, `the app was down ${downMs} ms`);
      const status = await backupStatus(volume);
      assert.equal(status.lastRun?.result, 'failed');
      assert.match(status.lastRun?.error ?? '', new RegExp(`target ${target}: .*TRANSFER_STALL_TIMEOUT`));
      assert.equal(status.running, false, 'the volume is free again');
      await assertScheduledRunAfter(new Date());
    });
  }

  it('a target that accepts the connection and never answers fails the run before anything is stopped', async (t) => {
    const silent = await startStallingServer();
    const volume = `${prefix}silent`;
    const app = `${prefix}silent-app`;
    try {
      // The same WebDAV settings, but a server that answers nothing at all: the run's first request hangs.
      await docker(['plugin', 'disable', '-f', PLUGIN]);
      const url = new URL(webdav.url);
      url.port = String(silent.port);
      await docker(['plugin', 'set', PLUGIN, `WEBDAV_URL=${url.toString()}`]);
      await enablePlugin();
      await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-target=webdav', '-o', 'backup-snapshot=direct', volume]);
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      const started = Date.now();
      const { code, record } = await backup(volume);
      assert.equal(code, 1);
      assert.match(record.error ?? '', new RegExp(`^target webdav: no answer for ${STALL_SECONDS} s while .*\\(TRANSFER_STALL_TIMEOUT\\)`));
      t.diagnostic(`silent webdav: run failed after ${Date.now() - started} ms; ${record.error}`);
      assert.ok(Date.now() - started < STALL_SECONDS * 1000 + SLACK_MS, `took ${Date.now() - started} ms`);
      assert.equal(await containerStops(app), 0, 'nothing was stopped');
      await assertScheduledRunAfter(new Date());
    } finally {
      await silent.close();
    }
  });

  it('an archive-pre command that never ends fails the run in time, naming the hook; the slot is freed', async (t) => {
    const volume = `${prefix}hook`;
    const app = `${prefix}hook-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=direct', volume]);
    await docker(['run', '-d', '--name', app, '--label', 'docker-volume-backup.archive-pre=sleep 100000', '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    const started = Date.now();
    const { code, record } = await backup(volume);
    assert.equal(code, 1);
    assert.match(record.error ?? '', new RegExp(`^archive-pre command in container ${app} did not finish in ${HOOK_SECONDS} s \\(HOOK_TIMEOUT\\)`));
    t.diagnostic(`hook: run failed after ${Date.now() - started} ms; ${record.error}`);
    assert.ok(Date.now() - started < HOOK_SECONDS * 1000 + SLACK_MS, `took ${Date.now() - started} ms`);
    assert.ok(await isRunning(app), 'the app runs');
    assert.equal(await containerStops(app), 0, 'the app was never stopped');
    assert.match((await backupStatus(volume)).lastRun?.error ?? '', /HOOK_TIMEOUT/);

    // The slot is free: another volume's backup runs now, and so do the scheduled ones.
    const other = `${prefix}after-hook`;
    await docker(['volume', 'create', '-d', PLUGIN, other]);
    const next = await backup(other);
    assert.equal(next.code, 0, next.record.error);
    await assertScheduledRunAfter(new Date());
  });

  /** How often the container was stopped (its `die` events) since it was created. */
  async function containerStops(container: string): Promise<number> {
    const created = (await docker(['inspect', '--format', '{{.Created}}', container])).trim();
    const output = await docker(['events', '--since', created, '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${container}`, '--filter', 'event=die', '--format', '{{.Action}}']);
    return output.split('\n').filter(Boolean).length;
  }
});
