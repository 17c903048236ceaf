import assert from 'node:assert/strict';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { HOST_ARCHIVE_DIR } from '../helpers/archives';
import { docker, dockerFailure } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { createPlugin, enablePlugin, hostVolumeDir, PLUGIN, removePlugin } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { volumeNames } from '../helpers/volumes';

/** src/volumes/volume-name.ts */
const MAX_VOLUME_NAME_LENGTH = 180;
const GPG_PASSPHRASE = 'restore-trust-e2e-passphrase';

interface RunResult {
  result: string;
  archive?: string;
  error?: string;
}

async function volumeWithBackup(volume: string, options: string[] = []): Promise<string> {
  await docker(['volume', 'create', '-d', PLUGIN, ...options, volume]);
  await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', 'echo original > /data/file.txt']);
  const record = await backupvolJson<RunResult>(['backup', volume]);
  assert.equal(record.result, 'success', record.error);
  return record.archive as string;
}

describe('what a restore trusts: volume names, archive names, encryption', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await removePlugin(PLUGIN);
    await createPlugin(PLUGIN);
    await docker(['plugin', 'set', PLUGIN, `GPG_PASSPHRASE=${GPG_PASSPHRASE}`]);
    await enablePlugin(PLUGIN);
  });

  it('creates and backs up a volume of the longest name, and refuses one character more', async () => {
    const longest = `${prefix}${'x'.repeat(MAX_VOLUME_NAME_LENGTH - prefix.length)}`;
    assert.equal(longest.length, MAX_VOLUME_NAME_LENGTH);
    // zstd and gpg: the longest archive and manifest names.
    await volumeWithBackup(longest, ['-o', 'backup-compression=zstd', '-o', 'backup-encryption=gpg']);
    assert.equal((await backupvolJson<unknown[]>(['backups', longest])).length, 1);

    const tooLong = `${longest}y`;
    const failure = await dockerFailure(['volume', 'create', '-d', PLUGIN, tooLong]);
    assert.match(failure.stderr, new RegExp(`invalid volume name .*\\(${MAX_VOLUME_NAME_LENGTH + 1} characters\\): use 1-${MAX_VOLUME_NAME_LENGTH} characters`));
    assert.ok(!(await volumeNames()).includes(tooLong), 'no volume is left behind');
  });

  it('refuses --from naming another volume’s archive or a name whose volume part is ..', async () => {
    const volume = `${prefix}own`;
    const other = `${prefix}other`;
    await volumeWithBackup(volume);
    const othersArchive = await volumeWithBackup(other);
    for (const from of [othersArchive, `${other}@latest`, '..-20260101T030000Z.tar.gz']) {
      for (const extra of [[], ['--into', `${prefix}copy`]]) {
        const outcome = await backupvolCli(['restore', volume, '--from', from, ...extra]);
        assert.equal(outcome.code, 2, `restore --from ${from} ${extra.join(' ')}: ${outcome.stderr}${outcome.stdout}`);
        assert.match(outcome.stderr, from.startsWith('..') ? /--from: .*invalid volume name "\.\."/ : new RegExp(`--from: .*is an archive of volume ${other}, not of ${volume}`));
      }
      const verify = await backupvolCli(['verify', volume, from]);
      assert.notEqual(verify.code, 0);
    }
    assert.ok(!(await volumeNames()).includes(`${prefix}copy`), '--into made no volume');
    assert.equal(await readFile(join(hostVolumeDir(volume), 'data', 'file.txt'), 'utf8'), 'original\n');
    // restore-from at create still names any volume: that is its purpose.
    await docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${othersArchive}`, `${prefix}from-other`]);
    assert.equal(await readFile(join(hostVolumeDir(`${prefix}from-other`), 'data', 'file.txt'), 'utf8'), 'original\n');
  });

  it('refuses a planted unencrypted archive of a gpg volume in restore, --into, restore-from and verify', async () => {
    const plain = `${prefix}plain`;
    const secret = `${prefix}secret`;
    const plainArchive = await volumeWithBackup(plain);
    await volumeWithBackup(secret, ['-o', 'backup-encryption=gpg']);
    await docker(['run', '--rm', '-v', `${secret}:/data`, TEST_IMAGE, 'sh', '-c', 'echo current > /data/file.txt']);
    // What someone who can write to the target, but has no key, can do: a plain archive with a manifest that says so.
    const planted = `${secret}-20300101T000000Z.tar.gz`;
    await copyFile(join(HOST_ARCHIVE_DIR, plain, plainArchive), join(HOST_ARCHIVE_DIR, secret, planted));
    const manifest = JSON.parse(await readFile(join(HOST_ARCHIVE_DIR, plain, `${plainArchive}.json`), 'utf8'));
    await writeFile(join(HOST_ARCHIVE_DIR, secret, `${planted}.json`), JSON.stringify({ ...manifest, volume: secret, archive: planted, created: '2030-01-01T00:00:00.000Z' }));

    const refused = new RegExp(`is refused: it is not encrypted, but volume ${secret} has backup-encryption=gpg`);
    const inPlace = await backupvolCli(['restore', secret]);
    assert.equal(inPlace.code, 1, inPlace.stdout);
    assert.match(inPlace.stdout + inPlace.stderr, refused);
    assert.equal(await readFile(join(hostVolumeDir(secret), 'data', 'file.txt'), 'utf8'), 'current\n', 'the volume is untouched');

    const into = await backupvolCli(['restore', secret, '--into', `${prefix}secret-copy`]);
    assert.equal(into.code, 1, into.stdout);
    assert.match(into.stdout + into.stderr, refused);
    assert.ok(!(await volumeNames()).includes(`${prefix}secret-copy`));

    const create = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', 'backup-encryption=gpg', '-o', `restore-from=${planted}`, `${prefix}secret-new`]);
    assert.match(create.stderr, /is refused: it is not encrypted, but volume .*secret-new has backup-encryption=gpg/);
    // Without the option, the new volume is still held to the source volume's backup-encryption.
    const createPlain = await dockerFailure(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${secret}@latest`, `${prefix}secret-new2`]);
    assert.match(createPlain.stderr, refused);

    const verify = await backupvolCli(['verify', secret, planted, '--json']);
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, refused);

    // The real, encrypted archive still restores.
    await rm(join(HOST_ARCHIVE_DIR, secret, `${planted}.json`));
    const real = await backupvolJson<RunResult>(['restore', secret]);
    assert.equal(real.result, 'success', real.error);
    assert.equal(await readFile(join(hostVolumeDir(secret), 'data', 'file.txt'), 'utf8'), 'original\n');
  });
});
