import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBackup, type BackupDeps } from '../../src/runs/backup/run-backup';
import { missingKeySetting } from '../../src/settings/archive-keys';
import type { Logger } from '../../src/shared/logger';
import { createSilentLogger } from '../../src/shared/logger';
import { createRedactor } from '../../src/shared/redact';
import { StopJournal } from '../../src/engine/stop-journal';
import type { VolumeEncryption } from '../../src/runs/restore/archive-encryption';
import type { RestoreDeps } from '../../src/runs/restore/restore-in-place';
import { loadPluginSecrets } from '../../src/settings/plugin-secrets';
import { LocalTarget } from '../../src/targets/local-target';
import { TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { VolumeStore } from '../../src/volumes/volume-store';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';
import { buildVolume } from './archive-fixtures';

// Shared by the crypto-*.test.ts and secrets-*.test.ts files (no tests here).

export const GPG_PASSPHRASE = 'gpg-passphrase-Xq7-never-logged';
export const AGE_PASSPHRASE = 'age-passphrase-Zr4-never-logged';

/** A fresh age key pair made by the real age-keygen. */
export async function ageKeyPair(dir: string, name = 'key'): Promise<{ file: string; identity: string; recipient: string }> {
  const file = join(dir, `${name}.txt`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const identity = (await readFile(file, 'utf8')).split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-')) as string;
  const recipient = execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
  return { file, identity, recipient };
}

/** `gpg -d` as a user runs it (in a throwaway home, so no agent or keyring of the machine is touched). */
export async function gpgDecrypt(archive: string, passphrase: string, output: string): Promise<void> {
  const home = await mkdtemp(join(process.env.TMPDIR ?? '/tmp', 'backupvol-gnupg-'));
  const passFile = join(home, 'pass');
  await writeFile(passFile, passphrase, { mode: 0o600 });
  try {
    execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase-file', passFile, '-o', output, '-d', archive], {
      stdio: 'ignore',
    });
  } finally {
    try {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    } catch {
      // No agent was started.
    }
    await rm(home, { recursive: true, force: true });
  }
}

/** `age -d -i IDENTITY_FILE`. */
export function ageDecryptWithIdentity(archive: string, identityFile: string, output: string): void {
  execFileSync('age', ['-d', '-i', identityFile, '-o', output, archive], { stdio: 'ignore' });
}

/** `age -d` with a passphrase: age reads it from a terminal only, so `script` gives it one. */
export function ageDecryptWithPassphrase(archive: string, passphrase: string, output: string): void {
  const command = `age -d -o '${output}' '${archive}'`;
  execFileSync('bash', ['-c', '(sleep 1; printf "%s\\n" "$0") | script -qec "$1" /dev/null', passphrase, command], { stdio: 'ignore', timeout: 60_000 });
}

/** `age -p` (passphrase encryption) through `script`, typing the passphrase and its confirmation. */
export function ageEncryptWithPassphrase(input: string, passphrase: string, output: string): void {
  const command = `age -p -o '${output}' '${input}'`;
  execFileSync('bash', ['-c', '(sleep 1; printf "%s\\n" "$0"; sleep 1; printf "%s\\n" "$0") | script -qec "$1" /dev/null', passphrase, command], {
    stdio: 'ignore',
    timeout: 60_000,
  });
}

export interface EncryptedSetUp {
  dir: string;
  store: VolumeStore;
  data: string;
  docker: FakeDocker;
  deps: RestoreDeps & BackupDeps;
  archive: string;
  archivePath: string;
  request: {
    volume: string;
    source: { volume: string; archive: string };
    encryption: VolumeEncryption[];
    stagingDir: string;
    swapIn: () => Promise<string>;
  };
}

/**
 * A volume `v` with buildVolume's tree, backed up once through runBackup with the given options and
 * settings (env, as the plugin reads them), then changed ("current"), ready for a restore.
 */
export async function backUpEncrypted(raw: Record<string, string>, env: Record<string, string>, logger: Logger = createSilentLogger()): Promise<EncryptedSetUp> {
  const dir = await makeTempDir('crypto');
  const store = new VolumeStore(join(dir, 'state'));
  await store.create({ name: 'v', createdAt: new Date().toISOString(), options: raw, mountIds: [] });
  const data = store.dataPath('v');
  await buildVolume(data);
  // As main.ts reads them, so the run's errors are masked as the plugin masks them.
  const { keys, remote, secrets } = loadPluginSecrets(env, []);
  const options = parseVolumeOptions(
    { 'backup-snapshot': 'direct', ...raw },
    { schedule: 'none', retention: '', encryption: 'none', missingKeySetting: (encryption, verify) => missingKeySetting(encryption, keys, verify) },
  );
  const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
  const deps: RestoreDeps & BackupDeps = {
    docker,
    journal: new StopJournal(join(dir, 'state')),
    target: new LocalTarget(join(dir, 'archive')),
    targets: new TargetSet(join(dir, 'archive'), remote, undefined, createRedactor(secrets)),
    stopTimeoutSeconds: 5,
    serviceStopTimeoutSeconds: 5,
    logger,
    keys,
    // The fixture has a set-user-ID file, and these tests compare the restored tree with it.
    keepSpecialBits: true,
  };
  const record = await runBackup(deps, { volume: 'v', options, rawOptions: raw, dataPath: data, stagingDir: join(dir, 'staging'), trigger: 'manual' });
  assert.equal(record.result, 'success', record.error);
  docker.calls.length = 0;
  const archive = record.archive as string;
  return {
    dir,
    store,
    data,
    docker,
    deps,
    archive,
    archivePath: join(dir, 'archive', 'v', archive),
    request: {
      volume: 'v',
      source: { volume: 'v', archive: 'latest' },
      encryption: [{ volume: 'v', encryption: options.encryption }],
      stagingDir: store.restoreStagingPath('v'),
      swapIn: () => store.swapInRestored('v'),
    },
  };
}
