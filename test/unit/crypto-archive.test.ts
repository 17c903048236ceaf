import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { decryptionStage } from '../../src/crypto/archive-cipher';
import { loadArchiveKeys } from '../../src/settings/archive-keys';
import { restoreInPlace } from '../../src/runs/restore/restore-in-place';
import { resolveArchive } from '../../src/runs/restore/resolve-archive';
import { verifyArchive } from '../../src/runs/restore/verify-archive';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import type { Compression } from '../../src/vocabulary/volume-options';
import { describeTree, extractWithSystemTar } from './archive-fixtures';
import {
  AGE_PASSPHRASE,
  ageDecryptWithIdentity,
  ageEncryptWithPassphrase,
  ageDecryptWithPassphrase,
  ageKeyPair,
  backUpEncrypted,
  GPG_PASSPHRASE,
  gpgDecrypt,
} from './crypto-fixtures';
import { makeTempDir } from '../helpers/temp-dir';

/** Decrypted with a CLI into `plain`, then extracted with the system tar: the tree the user gets back. */
async function treeFromCli(setUp: { dir: string; archivePath: string }, compression: Compression, decrypt: (plain: string) => Promise<void> | void) {
  const plain = join(setUp.dir, 'decrypted.tar');
  await decrypt(plain);
  const into = join(setUp.dir, 'from-cli');
  await mkdir(into);
  extractWithSystemTar(plain, compression, into);
  return describeTree(into);
}

describe('encrypted archives', () => {
  it('gpg: gpg -d opens the archive, the manifest records the encryption and the sha256 of the stored bytes', async () => {
    const setUp = await backUpEncrypted({ 'backup-encryption': 'gpg' }, { GPG_PASSPHRASE });
    assert.match(setUp.archive, /^v-\d{8}T\d{6}Z\.tar\.gz\.gpg$/);
    const manifest = JSON.parse(await readFile(`${setUp.archivePath}.json`, 'utf8'));
    assert.equal(manifest.encryption, 'gpg');
    assert.equal(manifest.sha256, execFileSync('sha256sum', [setUp.archivePath], { encoding: 'utf8' }).split(' ')[0]);
    const tree = await treeFromCli(setUp, 'gzip', (plain) => gpgDecrypt(setUp.archivePath, GPG_PASSPHRASE, plain));
    assert.deepEqual(tree, await describeTree(setUp.data));
  });

  it('age with recipients: age -d -i IDENTITY opens the archive (zstd inside)', async () => {
    const keyDir = await makeTempDir('age-keys');
    const [first, second] = [await ageKeyPair(keyDir, 'first'), await ageKeyPair(keyDir, 'second')];
    const setUp = await backUpEncrypted(
      { 'backup-encryption': 'age', 'backup-compression': 'zstd' },
      { AGE_RECIPIENTS: `${first.recipient}, ${second.recipient}` },
    );
    assert.match(setUp.archive, /\.tar\.zst\.age$/);
    // Either recipient's identity opens it.
    const tree = await treeFromCli(setUp, 'zstd', (plain) => ageDecryptWithIdentity(setUp.archivePath, second.file, plain));
    assert.deepEqual(tree, await describeTree(setUp.data));
  });

  it('age with a passphrase (from AGE_PASSPHRASE_FILE): age -d and restore open the archive', async () => {
    const keyDir = await makeTempDir('age-pass');
    const passFile = join(keyDir, 'pass');
    execFileSync('bash', ['-c', 'printf "%s\\n" "$0" > "$1"', AGE_PASSPHRASE, passFile]);
    const setUp = await backUpEncrypted({ 'backup-encryption': 'age', 'backup-compression': 'none' }, { AGE_PASSPHRASE_FILE: passFile });
    assert.match(setUp.archive, /\.tar\.age$/);
    const tree = await treeFromCli(setUp, 'none', (plain) => ageDecryptWithPassphrase(setUp.archivePath, AGE_PASSPHRASE, plain));
    assert.deepEqual(tree, await describeTree(setUp.data));
    // And the plugin's own restore opens it with the same setting.
    await mkdir(join(setUp.data, 'changed-since'));
    const record = await restoreInPlace(setUp.deps, setUp.request);
    assert.equal(record.result, 'success', record.error);
    assert.deepEqual(await describeTree(setUp.data), tree);
  });

  it('age with a passphrase: what `age -p` wrote opens with AGE_PASSPHRASE; a wrong one is a clear error', async () => {
    const dir = await makeTempDir('age-cli-pass');
    const plain = join(dir, 'plain');
    await writeFile(plain, 'made by the age CLI\n'.repeat(10_000));
    ageEncryptWithPassphrase(plain, AGE_PASSPHRASE, join(dir, 'plain.age'));
    const open = (passphrase: string, output: string) =>
      pipeline(createReadStream(join(dir, 'plain.age')), decryptionStage('age', loadArchiveKeys({ AGE_PASSPHRASE: passphrase })) as Writable, createWriteStream(output));
    await open(AGE_PASSPHRASE, join(dir, 'opened'));
    assert.deepEqual(await readFile(join(dir, 'opened')), await readFile(plain));
    await assert.rejects(open('not-the-passphrase', join(dir, 'wrong')), /cannot decrypt it with AGE_PASSPHRASE \(wrong key or damaged archive\)/);
  });
});

describe('restore and verify of encrypted archives', () => {
  it('gpg: restore and verify decrypt with GPG_PASSPHRASE', async () => {
    const setUp = await backUpEncrypted({ 'backup-encryption': 'gpg' }, { GPG_PASSPHRASE });
    const expected = await describeTree(setUp.data);
    await mkdir(join(setUp.data, 'changed-since'));
    const verified = await verifyArchive(setUp.deps.target, 'v', await resolveArchive(setUp.deps.target, setUp.request.source), { keys: setUp.deps.keys, encryption: setUp.request.encryption });
    assert.equal(verified.result, 'ok', verified.error);
    const record = await restoreInPlace(setUp.deps, setUp.request);
    assert.equal(record.result, 'success', record.error);
    assert.deepEqual(await describeTree(setUp.data), expected);
  });

  it('age: restore and verify decrypt with AGE_IDENTITY_FILE', async () => {
    const keyDir = await makeTempDir('age-restore');
    const key = await ageKeyPair(keyDir);
    const setUp = await backUpEncrypted(
      { 'backup-encryption': 'age', 'backup-verify': 'true' },
      { AGE_RECIPIENTS: key.recipient, AGE_IDENTITY_FILE: key.file },
    );
    const expected = await describeTree(setUp.data);
    await mkdir(join(setUp.data, 'changed-since'));
    const record = await restoreInPlace(setUp.deps, setUp.request);
    assert.equal(record.result, 'success', record.error);
    assert.deepEqual(await describeTree(setUp.data), expected);
  });

  it('a wrong gpg passphrase: clear error, nothing stopped, the volume untouched', async () => {
    const setUp = await backUpEncrypted({ 'backup-encryption': 'gpg' }, { GPG_PASSPHRASE });
    await mkdir(join(setUp.data, 'changed-since'));
    const before = await describeTree(setUp.data);
    const deps = { ...setUp.deps, keys: loadArchiveKeys({ GPG_PASSPHRASE: 'not-the-passphrase' }) };
    const record = await restoreInPlace(deps, setUp.request);
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /cannot restore v-.*\.gpg: cannot decrypt it with GPG_PASSPHRASE \(wrong key or damaged archive\)/);
    assert.deepEqual(setUp.docker.calls, []);
    assert.deepEqual(await describeTree(setUp.data), before);
    await assert.rejects(readFile(join(setUp.request.stagingDir, 'hello.txt')), 'no staged tree is left');
    const verified = await verifyArchive(deps.target, 'v', await resolveArchive(deps.target, setUp.request.source), { keys: deps.keys, encryption: setUp.request.encryption });
    assert.equal(verified.result, 'failed');
    assert.match(verified.error ?? '', /GPG_PASSPHRASE/);
  });

  it('age: a wrong identity and a missing one are clear errors, the volume untouched', async () => {
    const keyDir = await makeTempDir('age-wrong');
    const [right, wrong] = [await ageKeyPair(keyDir, 'right'), await ageKeyPair(keyDir, 'wrong')];
    const setUp = await backUpEncrypted({ 'backup-encryption': 'age' }, { AGE_RECIPIENTS: right.recipient });
    const before = await describeTree(setUp.data);

    const missing = await restoreInPlace(setUp.deps, setUp.request);
    assert.equal(missing.result, 'failed');
    assert.match(missing.error ?? '', /encrypted with age: set AGE_IDENTITY or AGE_IDENTITY_FILE/);

    const deps = { ...setUp.deps, keys: loadArchiveKeys({ AGE_RECIPIENTS: right.recipient, AGE_IDENTITY: wrong.identity }) };
    const record = await restoreInPlace(deps, setUp.request);
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /cannot decrypt it with AGE_IDENTITY \(wrong key or damaged archive\)/);
    assert.deepEqual(setUp.docker.calls, []);
    assert.deepEqual(await describeTree(setUp.data), before);
  });

  it('a backup whose key settings are gone fails before anything is stopped, naming the setting', async () => {
    const setUp = await backUpEncrypted({ 'backup-encryption': 'gpg' }, { GPG_PASSPHRASE });
    const options = parseVolumeOptions({ 'backup-encryption': 'gpg' }, { schedule: 'none', retention: '', encryption: 'none', missingKeySetting: () => undefined });
    const record = await runBackup(
      { ...setUp.deps, keys: loadArchiveKeys({}) },
      { volume: 'v', options, rawOptions: {}, dataPath: setUp.data, stagingDir: join(setUp.dir, 'staging'), trigger: 'manual' },
    );
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /GPG_PASSPHRASE or GPG_PASSPHRASE_FILE/);
    assert.deepEqual(setUp.docker.calls, []);
  });
});
