import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { completeArchives, extractWithStandardTools, HOST_ARCHIVE_DIR, plantArchiveBytes } from '../helpers/archives';
import { backupStatus, containerEvents, isRunning, stoppedThenStarted } from '../helpers/backup-status';
import { craftTar, type CraftedEntry } from '../helpers/craft-tar';
import { docker, dockerFailure, run } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { markEngineLog, pluginLogSince } from '../helpers/engine-log';
import { HOST_DATA_DIR, hostVolumeDir, installFreshPlugin, PLUGIN, pluginId } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

const FILL = [
  'mkdir -p /data/docs/deep /data/empty',
  'seq 1 5000 > /data/docs/numbers',
  'echo secret > /data/docs/deep/private && chmod 600 /data/docs/deep/private',
  'echo keep > /data/keep.txt && chmod 640 /data/keep.txt',
  'ln -s docs/numbers /data/link',
  'dd if=/dev/urandom of=/data/random bs=1024 count=512 2>/dev/null',
].join(' && ');

const CHANGE = 'echo changed > /data/keep.txt && rm -rf /data/docs/deep && echo new > /data/new-file && rm /data/link';

interface RunResult {
  result: string;
  archive?: string;
  error?: string;
  downtimeMs?: number;
  stopped: string[];
}

interface ArchiveRow {
  name: string;
  created: string;
  bytes: number;
  fileCount: number;
  downtimeMs: number;
}

interface VerifyRow {
  archive: string;
  result: string;
  error?: string;
}

function dataDir(volume: string): string {
  return join(hostVolumeDir(volume), 'data');
}

/** A filled volume with one archive made through `backupvol backup`. */
async function volumeWithBackup(volume: string, options: string[] = []): Promise<string> {
  await docker(['volume', 'create', '-d', PLUGIN, ...options, volume]);
  await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
  const record = await backupvolJson<RunResult>(['backup', volume]);
  assert.equal(record.result, 'success', record.error);
  return record.archive as string;
}

/** Puts a crafted archive and a manifest that matches its bytes into a volume's target folder. */
function plantArchive(volume: string, entries: CraftedEntry[]): Promise<string> {
  const fileCount = entries.filter((entry) => (entry.type ?? 'File') === 'File').length;
  return plantArchiveBytes(volume, gzipSync(craftTar(entries)), fileCount);
}

describe('restore, verify and the backupvol CLI', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('restores the latest archive over changed content; the container that used it runs again', async () => {
    const volume = `${prefix}inplace`;
    const app = `${prefix}inplace-app`;
    const archive = await volumeWithBackup(volume, ['-o', 'backup-compression=zstd']);
    const backedUp = await extractWithStandardTools(volume, archive);
    try {
      await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
      await docker(['exec', app, 'sh', '-c', CHANGE]);
      const since = new Date();
      // containerEvents counts from the next whole second: the container's own start is not part of this.
      await new Promise((resolve) => setTimeout(resolve, 1_100));

      const outcome = await backupvolCli(['restore', volume, '--json']);
      assert.equal(outcome.code, 0, outcome.stderr);
      const record = JSON.parse(outcome.stdout) as RunResult;
      assert.equal(record.result, 'success');
      assert.equal(record.archive, archive);
      assert.deepEqual(record.stopped, [app]);
      assert.equal(typeof record.downtimeMs, 'number');

      await assertSameTree(backedUp, dataDir(volume), { mtimeToleranceNs: SECOND_NS });
      assert.ok(await isRunning(app), 'the container runs again');
      assert.ok(stoppedThenStarted(await containerEvents(app, since)), 'the container was stopped, then started');
      // The container sees the restored tree through its mount, not the old one.
      assert.equal((await docker(['exec', app, 'cat', '/data/keep.txt'])).trim(), 'keep');
      assert.equal((await docker(['exec', app, 'cat', '/data/docs/deep/private'])).trim(), 'secret');
      const status = await backupStatus(volume);
      assert.equal((status as unknown as { lastRestore: RunResult }).lastRestore.result, 'success');
      const leftovers = (await readdir(hostVolumeDir(volume))).sort();
      assert.deepEqual(leftovers, ['data', 'mounts.json', 'run-state.json', 'volume.json'], 'no staging or previous tree is left');
    } finally {
      await rm(backedUp, { recursive: true, force: true });
    }
  });

  it('--into and -o restore-from give new volumes with the archive content that a container sees', async () => {
    const volume = `${prefix}source`;
    const archive = await volumeWithBackup(volume);
    const backedUp = await extractWithStandardTools(volume, archive);
    try {
      const copy = `${prefix}copy`;
      const record = await backupvolJson<RunResult>(['restore', volume, '--into', copy]);
      assert.equal(record.result, 'success');
      assert.equal((await docker(['volume', 'inspect', '-f', '{{.Driver}}', copy])).trim().split(':')[0], PLUGIN);
      await assertSameTree(backedUp, dataDir(copy), { mtimeToleranceNs: SECOND_NS });
      assert.equal((await docker(['run', '--rm', '-v', `${copy}:/data`, TEST_IMAGE, 'cat', '/data/keep.txt'])).trim(), 'keep');

      const fresh = `${prefix}fresh`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${volume}@latest`, fresh]);
      await assertSameTree(backedUp, dataDir(fresh), { mtimeToleranceNs: SECOND_NS });
      assert.equal((await docker(['run', '--rm', '-v', `${fresh}:/data`, TEST_IMAGE, 'cat', '/data/docs/deep/private'])).trim(), 'secret');

      const named = `${prefix}named`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${archive}`, named]);
      await assertSameTree(backedUp, dataDir(named), { mtimeToleranceNs: SECOND_NS });

      const missing = `${prefix}missing`;
      const failure = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${prefix}nothing@latest`, missing]);
      assert.match(failure.stderr, /restore-from=.*has no complete archive/);
      assert.doesNotMatch(await docker(['volume', 'ls', '-q']), new RegExp(missing));
    } finally {
      await rm(backedUp, { recursive: true, force: true });
    }
  });

  it('a corrupted archive fails verify and is refused by restore; the volume is untouched', async () => {
    const volume = `${prefix}corrupt`;
    const archive = await volumeWithBackup(volume);
    const verified = await backupvolJson<VerifyRow[]>(['verify', volume]);
    assert.deepEqual(verified.map((row) => row.result), ['ok']);

    const path = join(HOST_ARCHIVE_DIR, volume, archive);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(path, bytes);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGE]);
    const before = await copyOfTree(volume);

    const verify = await backupvolCli(['verify', volume, archive, '--json']);
    assert.equal(verify.code, 1);
    const rows = JSON.parse(verify.stdout) as VerifyRow[];
    assert.equal(rows[0].result, 'failed');
    assert.match(rows[0].error ?? '', new RegExp(`${archive}`));

    const restore = await backupvolCli(['restore', volume]);
    assert.equal(restore.code, 1);
    assert.match(restore.stdout + restore.stderr, /failed: cannot restore .*(corrupt|unreadable|invalid|incorrect|checksum)/i);
    await assertSameTree(before, dataDir(volume));
    await rm(before, { recursive: true, force: true });
    const status = (await backupStatus(volume)) as unknown as { lastVerify: VerifyRow; lastRestore: RunResult };
    assert.equal(status.lastVerify.result, 'failed');
    assert.equal(status.lastRestore.result, 'failed');
  });

  it('refuses hostile archives (.., absolute path, symlink escape) and writes nothing outside the volume', async () => {
    const volume = `${prefix}hostile`;
    await volumeWithBackup(volume);
    const before = await copyOfTree(volume);
    const hostile: Array<[CraftedEntry[], RegExp, string]> = [
      [[{ path: '../../../escaped-dotdot.txt', body: 'x' }], /climbs out of the volume/, join(HOST_DATA_DIR, 'escaped-dotdot.txt')],
      [[{ path: '/tmp/bvt-escaped-absolute.txt', body: 'x' }], /absolute path/, '/tmp/bvt-escaped-absolute.txt'],
      [
        [{ path: 'out', type: 'SymbolicLink', linkpath: '/tmp' }, { path: 'out/bvt-escaped-symlink.txt', body: 'x' }],
        /goes through the symlink/,
        '/tmp/bvt-escaped-symlink.txt',
      ],
    ];
    for (const [entries, message, escapePath] of hostile) {
      const archive = await plantArchive(volume, entries);
      const outcome = await backupvolCli(['restore', volume, '--from', archive]);
      assert.equal(outcome.code, 1, `${archive} was refused`);
      assert.match(outcome.stdout + outcome.stderr, message);
      await assert.rejects(readFile(escapePath), 'nothing was written outside');
      await assertSameTree(before, dataDir(volume));
      await rm(join(HOST_ARCHIVE_DIR, volume, `${archive}.json`));
      await rm(join(HOST_ARCHIVE_DIR, volume, archive));
    }
    await rm(before, { recursive: true, force: true });
  });

  it('ls, backups and backup-verify; usage errors exit 2 and failures exit 1', async () => {
    const volume = `${prefix}cli`;
    const first = await volumeWithBackup(volume, ['-o', 'backup-verify=true']);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await backupvolJson<RunResult & { verified?: boolean }>(['backup', volume]);
    assert.equal(second.verified, true);

    const listed = await backupvolJson<Array<{ name: string; archives: number; lastRun: { result: string } }>>(['ls']);
    const row = listed.find((entry) => entry.name === volume);
    assert.equal(row?.archives, 2);
    assert.equal(row?.lastRun.result, 'success');
    assert.match((await backupvolCli(['ls'])).stdout, new RegExp(`^VOLUME +SCHEDULE[\\s\\S]*${volume} +none`, 'm'));

    const archives = await backupvolJson<ArchiveRow[]>(['backups', volume]);
    assert.deepEqual(archives.map((archive) => archive.name), [second.archive, first], 'newest first');
    assert.deepEqual(archives.map((archive) => archive.name), (await completeArchives(volume)).sort().reverse());
    assert.ok(archives.every((archive) => archive.bytes > 0 && archive.fileCount === 4));
    assert.match((await backupvolCli(['backups', volume])).stdout, /^ARCHIVE +CREATED +SIZE +FILES +DOWNTIME +KIND +BASE/);
    const all = await backupvolJson<VerifyRow[]>(['verify', volume, '--all']);
    assert.deepEqual(all.map((entry) => [entry.archive, entry.result]), [[second.archive, 'ok'], [first, 'ok']]);

    for (const args of [[], ['bogus'], ['restore'], ['backup', 'a', 'b'], ['ls', '--bogus'], ['verify', volume, first, '--all'], ['backup', '../etc']]) {
      const outcome = await backupvolCli(args);
      assert.equal(outcome.code, 2, `backupvol ${args.join(' ')} is a usage error: ${outcome.stderr}`);
      assert.match(outcome.stderr + outcome.stdout, /usage|invalid volume name|give an ARCHIVE/);
    }
    for (const command of ['ls', 'backup', 'backups', 'restore', 'verify']) {
      const outcome = await backupvolCli([command, '--help']);
      assert.equal(outcome.code, 0);
      assert.match(outcome.stdout, new RegExp(`^usage: backupvol ${command}`));
    }
    const unknown = await backupvolCli(['backup', `${prefix}no-such-volume`]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such backupvol volume/);
    const intoExisting = await backupvolCli(['restore', volume, '--into', volume]);
    assert.equal(intoExisting.code, 2);
    assert.match(intoExisting.stderr, /exists already/);
  });

  it('a backup says where its time went: each phase, in the record, the status, the listing and the log', async () => {
    const volume = `${prefix}phases`;
    const app = `${prefix}phases-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-verify=true', volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
    const mark = await markEngineLog();
    const record = await backupvolJson<RunResult & { durationMs: number; phases: Record<string, number> }>(['backup', volume]);
    assert.equal(record.result, 'success', record.error);
    assert.deepEqual(record.stopped, [app]);
    const sync = ['prepare', 'archive-pre', 'room-check', 'live-pass', 'stop', 'stopped-pass', 'start', 'archive', 'fsync', 'manifest', 'verify', 'archive-post', 'prune'];
    assert.deepEqual(Object.keys(record.phases), sync);
    const total = Object.values(record.phases).reduce((sum, ms) => sum + ms, 0);
    assert.ok(total <= record.durationMs, `${total} ms of phases in a ${record.durationMs} ms run`);
    // The container is down from its stop to its start: those phases fit in the downtime.
    const { stop, 'stopped-pass': stoppedPass, start } = record.phases;
    assert.ok(stop + stoppedPass + start <= (record.downtimeMs ?? 0) + 1, `downtime ${record.downtimeMs} ms`);
    assert.ok(stop > 0, 'a running container takes time to stop');

    const status = (await backupStatus(volume)).lastRun as unknown as { phases: Record<string, number> };
    assert.deepEqual(status.phases, record.phases);
    const [row] = await backupvolJson<Array<ArchiveRow & { phases: Record<string, number> }>>(['backups', volume]);
    assert.deepEqual(Object.keys(row.phases), sync.slice(0, sync.indexOf('manifest')));
    const logged = (await pluginLogSince(mark, [await pluginId()])).join('\n');
    assert.match(logged, new RegExp(`Backup of volume ${volume} took \\d+ ms: prepare \\S+ m?s, archive-pre .*, live-pass .*, prune \\S+ m?s`));

    // With nothing left to stop, one pass makes the mirror the archive is made of, and nothing is down.
    await docker(['rm', '-f', app]);
    const alone = await backupvolJson<RunResult & { durationMs: number; phases: Record<string, number> }>(['backup', volume]);
    assert.equal(alone.result, 'success', alone.error);
    assert.deepEqual(alone.stopped, []);
    assert.deepEqual(Object.keys(alone.phases), sync.filter((phase) => !['stop', 'stopped-pass', 'start'].includes(phase)));
    assert.equal(alone.downtimeMs, 0);
  });
});

/** A copy of a volume's current tree to compare against later (cp -a keeps what compareTrees checks). */
async function copyOfTree(volume: string): Promise<string> {
  const copy = join('/tmp', `bvt-before-${volume}`);
  await rm(copy, { recursive: true, force: true });
  await run('cp', ['-a', dataDir(volume), copy]);
  return copy;
}
