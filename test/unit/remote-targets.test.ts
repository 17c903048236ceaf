import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Target } from '../../src/targets/target';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import type { TargetName } from '../../src/vocabulary/volume-options';
import { freePort } from '../helpers/free-port';
import { startS3Server } from '../helpers/s3-server';
import { startSftpServer } from '../helpers/sftp-server';
import { sampleManifest as manifest } from '../helpers/target-fixtures';
import { makeTempDir } from '../helpers/temp-dir';
import { startWebdavServer } from '../helpers/webdav-server';

/**
 * The three remote targets against real servers on 127.0.0.1 (s3rver, Debian's sshd, Debian's apache2
 * with mod_dav), each driven through the same checks. sshd and apache need root and their packages
 * (scripts/install-packages.sh sshd apache2); without them those suites are skipped, and say why.
 */

type Env = Record<string, string>;

interface RemoteCase {
  name: Exclude<TargetName, 'local'>;
  skip: string | false;
  /** Starts the server; returns settings for a working target, one with a wrong secret, and the secret. */
  start(): Promise<{ good: Env; wrongSecret: Env; unreachable: (port: number) => Env; secret: string; close(): Promise<void> }>;
  /** Settings for a target the server refuses to write to (beyond a wrong password), if the protocol has one. */
  readonly?: (good: Env) => Env;
}

const asRoot = process.getuid?.() === 0;
const sftpDirs = new Map<string, { readonlyDir: string }>();

const CASES: RemoteCase[] = [
  {
    name: 's3',
    skip: false,
    start: async () => {
      const server = await startS3Server();
      const good = { ...server.settings, S3_PREFIX: 'team/backups' };
      return {
        good,
        // s3rver checks the access key id but not SigV4 signatures: a wrong key id is its refusal.
        wrongSecret: { ...good, S3_ACCESS_KEY_ID: 'NOT-A-KEY', S3_SECRET_ACCESS_KEY: 'not-the-secret-key' },
        unreachable: (port) => ({ ...good, S3_ENDPOINT: `http://127.0.0.1:${port}` }),
        secret: 'not-the-secret-key',
        close: () => server.close(),
      };
    },
    readonly: (good) => ({ ...good, S3_BUCKET: 'no-such-bucket' }),
  },
  {
    name: 'sftp',
    skip: !asRoot ? 'needs root (a test user for sshd)' : !existsSync('/usr/sbin/sshd') ? 'needs openssh-server' : false,
    start: async () => {
      const server = await startSftpServer();
      const good = {
        SFTP_HOST: server.host,
        SFTP_PORT: String(server.port),
        SFTP_USER: server.user,
        SFTP_PASSWORD: server.password,
        SFTP_PATH: server.storeDir,
        SFTP_KNOWN_HOSTS: server.knownHosts,
      };
      sftpDirs.set(good.SFTP_PATH, { readonlyDir: server.readonlyDir });
      return {
        good,
        wrongSecret: { ...good, SFTP_PASSWORD: 'not-the-password' },
        unreachable: (port) => ({ ...good, SFTP_PORT: String(port) }),
        secret: 'not-the-password',
        close: () => server.close(),
      };
    },
    readonly: (good) => ({ ...good, SFTP_PATH: sftpDirs.get(good.SFTP_PATH)?.readonlyDir ?? '/' }),
  },
  {
    name: 'webdav',
    skip: !existsSync('/usr/sbin/apache2') ? 'needs apache2' : false,
    start: async () => {
      const server = await startWebdavServer();
      // The password in the URL too: a library error that echoes the URL must not show it.
      const good = {
        WEBDAV_URL: server.url,
        WEBDAV_USERNAME: server.username,
        WEBDAV_PASSWORD: server.password,
        WEBDAV_PATH: '/backups',
      };
      return {
        good,
        wrongSecret: { ...good, WEBDAV_PASSWORD: 'not-the-password' },
        unreachable: (port) => ({ ...good, WEBDAV_URL: `http://${server.username}:not-the-password@127.0.0.1:${port}` }),
        secret: 'not-the-password',
        close: () => server.close(),
      };
    },
  },
];

async function store(target: Target, archive: string, created: string, content: Buffer | string): Promise<void> {
  const upload = await target.beginUpload('v', archive);
  await pipeline(Readable.from([content]), upload.stream);
  await upload.commit();
  await target.writeManifest('v', manifest(archive, created, Buffer.byteLength(content)));
}

/** A run's upload: committed when it all went through, aborted (and the error thrown) otherwise. */
async function uploadOrAbort(target: Target, archive: string): Promise<void> {
  const upload = await target.beginUpload('v', archive);
  try {
    await pipeline(Readable.from([Buffer.alloc(1024, 2)]), upload.stream);
    await upload.commit();
  } catch (error) {
    await upload.abort();
    throw error;
  }
}

async function read(target: Target, archive: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await target.open('v', archive)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function targetFrom(name: TargetName, env: Env): Promise<Target> {
  return new TargetSet(await makeTempDir('local'), loadRemoteSettings(env)).get(name);
}

for (const testCase of CASES) {
  describe(`${testCase.name} target against a real server`, { skip: testCase.skip }, () => {
    let server: Awaited<ReturnType<RemoteCase['start']>>;
    before(async () => {
      server = await testCase.start();
    });
    after(() => server?.close());

    it('stores, lists (complete archives only, newest first), reads back and removes archives', async () => {
      const target = await targetFrom(testCase.name, server.good);
      // Larger than one S3 part, so the upload is multipart.
      const big = Buffer.alloc(6 * 1024 * 1024 + 123, 7);
      await store(target, 'v-20260101T000000Z.tar.gz', '2026-01-01T00:00:00.000Z', 'old');
      await store(target, 'v-20260102T000000Z.tar.gz', '2026-01-02T00:00:00.000Z', big);
      const noManifest = await target.beginUpload('v', 'v-20260103T000000Z.tar.gz');
      await pipeline(Readable.from(['no manifest yet']), noManifest.stream);
      await noManifest.commit();

      const names = (await target.list('v')).map((archive) => archive.name);
      assert.deepEqual(names, ['v-20260102T000000Z.tar.gz', 'v-20260101T000000Z.tar.gz']);
      assert.equal((await read(target, 'v-20260101T000000Z.tar.gz')).toString(), 'old');
      assert.ok((await read(target, 'v-20260102T000000Z.tar.gz')).equals(big));
      assert.deepEqual(await target.list('never-backed-up'), []);

      // Retention's path: the manifest goes first, then the archive.
      await target.remove('v', 'v-20260101T000000Z.tar.gz');
      assert.deepEqual((await target.list('v')).map((archive) => archive.name), ['v-20260102T000000Z.tar.gz']);
      await assert.rejects(target.open('v', 'v-20260101T000000Z.tar.gz'), new RegExp(`^Error: target ${testCase.name}:`));

      assert.deepEqual(await target.removeIncomplete('v'), ['v-20260103T000000Z.tar.gz']);
      assert.deepEqual(await target.removeIncomplete('v'), []);
      await target.remove('v', 'v-20260102T000000Z.tar.gz');
      assert.deepEqual(await target.list('v'), []);
    });

    it('shows nothing of an aborted upload, and removeIncomplete clears what a dead run left', async () => {
      const target = await targetFrom(testCase.name, server.good);
      const aborted = await target.beginUpload('v', 'v-20260104T000000Z.tar.gz');
      aborted.stream.write(Buffer.alloc(64 * 1024, 1));
      await aborted.abort();
      // A run that died mid-upload: begun, never committed nor aborted.
      const dead = await target.beginUpload('v', 'v-20260105T000000Z.tar.gz');
      await new Promise<void>((resolve) => dead.stream.end(Buffer.from('half'), () => resolve()));
      await dead.commit().catch(() => undefined);
      await target.removeIncomplete('v');
      assert.deepEqual(await target.list('v'), []);
      assert.deepEqual(await target.removeIncomplete('v'), []);
    });

    it('fails an upload the server rejects (wrong password), naming the target and not the secret', async () => {
      const target = await targetFrom(testCase.name, server.wrongSecret);
      const error = await uploadOrAbort(target, 'v-20260106T000000Z.tar.gz').then(
        () => assert.fail('the upload was accepted'),
        (failure: Error) => failure,
      );
      assert.ok(!error.message.includes(server.secret), error.message);
      await assert.rejects(target.list('v'), (failure: Error) => {
        assert.match(failure.message, new RegExp(`^target ${testCase.name}: `));
        assert.ok(!failure.message.includes(server.secret), failure.message);
        return true;
      });
      // Nothing was left by the refused upload.
      assert.deepEqual(await (await targetFrom(testCase.name, server.good)).list('v'), []);
    });

    if (testCase.readonly) {
      const readonly = testCase.readonly;
      it('fails an upload to a place it may not write, leaving nothing', async () => {
        const target = await targetFrom(testCase.name, readonly(server.good));
        await assert.rejects(uploadOrAbort(target, 'v-20260107T000000Z.tar.gz'), new RegExp(`target ${testCase.name}: `));
      });
    }

    it('fails fast and cleanly when the server is unreachable', async () => {
      const target = await targetFrom(testCase.name, server.unreachable(await freePort()));
      const started = Date.now();
      await assert.rejects(target.list('v'), (failure: Error) => {
        assert.match(failure.message, new RegExp(`^target ${testCase.name}: `));
        assert.ok(!failure.message.includes(server.secret), failure.message);
        return true;
      });
      await assert.rejects(target.beginUpload('v', 'v-20260108T000000Z.tar.gz'), new RegExp(`target ${testCase.name}: `));
      assert.ok(Date.now() - started < 30_000, 'took longer than 30 s');
    });
  });
}
