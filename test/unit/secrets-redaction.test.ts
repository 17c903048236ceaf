import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadArchiveKeys } from '../../src/settings/archive-keys';
import { createRedactor } from '../../src/shared/redact';
import { restoreInPlace } from '../../src/runs/restore/restore-in-place';
import { resolveArchive } from '../../src/runs/restore/resolve-archive';
import { verifyArchive } from '../../src/runs/restore/verify-archive';
import { loadPluginSecrets } from '../../src/settings/plugin-secrets';
import { loadSettings } from '../../src/settings/settings';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { capturingLogger } from '../helpers/capturing-logger';
import { makeTempDir } from '../helpers/temp-dir';
import { AGE_PASSPHRASE, ageKeyPair, backUpEncrypted, GPG_PASSPHRASE } from './crypto-fixtures';

/** The values src/main.ts masks with these settings. */
function secretsAsMainReadsThem(env: Record<string, string>): string[] {
  return loadPluginSecrets(env, loadSettings(env).notifyUrls).secrets;
}

/** The logger as src/main.ts makes it: a test of it checks what the plugin masks, not what the test chose. */
function loggerAsMainMakesIt(env: Record<string, string>) {
  return capturingLogger(secretsAsMainReadsThem(env));
}

describe('secrets', () => {
  it('the redactor masks every configured secret, longest first, and leaves short values alone', () => {
    const redact = createRedactor(['hunter2hunter2', 'hunter2hunter2-and-more', 'ab']);
    assert.equal(redact('a hunter2hunter2-and-more b hunter2hunter2 ab'), 'a [redacted] b [redacted] ab');
  });

  it('the logger masks secrets in messages and metadata', async () => {
    const { logger, lines } = capturingLogger([GPG_PASSPHRASE]);
    logger.error(`library said: bad passphrase ${GPG_PASSPHRASE}`, { detail: { echoed: GPG_PASSPHRASE }, error: new Error(GPG_PASSPHRASE) });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes(GPG_PASSPHRASE), lines[0]);
    assert.match(lines[0], /bad passphrase \[redacted\]/);
  });

  it('the plugin reads NAME and NAME_FILE, and masks each key of an identity file but not its comments', async () => {
    const dir = await makeTempDir('secret-values');
    const key = await ageKeyPair(dir);
    const passFile = join(dir, 'pass');
    await writeFile(passFile, `${AGE_PASSPHRASE}\n`);
    const values = secretsAsMainReadsThem({ GPG_PASSPHRASE, AGE_PASSPHRASE_FILE: passFile, AGE_IDENTITY_FILE: key.file, NOTIFY_URLS: 'https://hooks.invalid/T0/B1/tok' });
    for (const expected of [GPG_PASSPHRASE, AGE_PASSPHRASE, key.identity, 'https://hooks.invalid/T0/B1/tok']) assert.ok(values.includes(expected), expected);
    // Its comment lines are not masked: they hold dates.
    assert.ok(!values.some((value) => value.startsWith('#') && !value.includes('AGE-SECRET-KEY-')));
  });

  it('never appear in the log, the run records, the manifest or the errors of a backup, a wrong-key restore and verify', async () => {
    const dir = await makeTempDir('secret-flow');
    const key = await ageKeyPair(dir);
    const wrongPassphrase = 'wrong-passphrase-Kd9-never-logged';
    const secrets = [GPG_PASSPHRASE, wrongPassphrase, key.identity];
    const { logger, lines } = loggerAsMainMakesIt({ GPG_PASSPHRASE, AGE_IDENTITY: key.identity });
    const setUp = await backUpEncrypted({ 'backup-encryption': 'gpg', 'backup-verify': 'true' }, { GPG_PASSPHRASE, AGE_IDENTITY: key.identity }, logger);
    const deps = { ...setUp.deps, keys: loadArchiveKeys({ GPG_PASSPHRASE: wrongPassphrase, AGE_IDENTITY: key.identity }) };
    const restore = await restoreInPlace(deps, setUp.request);
    assert.equal(restore.result, 'failed');
    const verify = await verifyArchive(deps.target, 'v', await resolveArchive(deps.target, setUp.request.source), { keys: deps.keys, encryption: setUp.request.encryption });
    assert.equal(verify.result, 'failed');

    const manifests = await Promise.all(
      (await readdir(join(setUp.dir, 'archive', 'v'))).filter((name) => name.endsWith('.json')).map((name) => readFile(join(setUp.dir, 'archive', 'v', name), 'utf8')),
    );
    assert.equal(manifests.length, 1);
    const everything = [lines.join(''), JSON.stringify(restore), JSON.stringify(verify), ...manifests].join('\n');
    assert.ok(lines.length > 0, 'something was logged');
    for (const secret of secrets) assert.ok(!everything.includes(secret), 'a secret leaked');
  });

  it('masks each key of a comma-separated AGE_IDENTITY, a refused one, and the SFTP private key, in the log and in a run error', async () => {
    const dir = await makeTempDir('secret-list');
    const one = await ageKeyPair(dir, 'one');
    const two = await ageKeyPair(dir, 'two');
    const keyFile = join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    const privateKey = await readFile(keyFile, 'utf8');
    // An error that quoted the key would more likely quote one line of it than the whole file.
    const keyLine = privateKey.split('\n')[1];
    const env = { AGE_IDENTITY: `${one.identity},${two.identity}`, SFTP_HOST: 'sftp.invalid', SFTP_USER: 'backup', SFTP_IDENTITY_FILE: keyFile };
    const { logger, lines } = loggerAsMainMakesIt(env);
    logger.error(`age: no identity matched: ${one.identity}`);
    logger.error(`age: nor ${two.identity}`);
    logger.error(`ssh: cannot parse ${privateKey.trim()}`);
    logger.error(`ssh: bad line ${keyLine}`);
    // A key with a typo is refused (the plugin reports the setting), yet it is someone's key all the same.
    const typo = `${one.identity}x`;
    const refused = loggerAsMainMakesIt({ AGE_IDENTITY: typo });
    refused.logger.error(`the setting held ${typo}`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(lines.length, 4);
    for (const line of [...lines, ...refused.lines]) assert.match(line, /\[redacted\]/);
    const log = [...lines, ...refused.lines].join('');
    for (const secret of [one.identity, two.identity, privateKey.trim(), keyLine, typo]) assert.ok(!log.includes(secret), log);
    // A run's error (its status) goes through the targets' redaction.
    const targets = new TargetSet(dir, loadRemoteSettings(env));
    assert.ok(!targets.redact(`ssh: bad line ${keyLine}`).includes(keyLine));
  });
});
