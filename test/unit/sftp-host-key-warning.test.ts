import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { StopJournal } from '../../src/engine/stop-journal';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { SFTP_ANY_HOST_KEY, TargetSet } from '../../src/targets/target-set';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import type { Volume } from '../../src/volumes/volume-registry';
import { capturingLogger } from '../helpers/capturing-logger';
import { FakeDocker } from '../helpers/fake-docker';
import { freePort } from '../helpers/free-port';
import { makeTempDir } from '../helpers/temp-dir';
import { setUpRuns } from './runs-fixtures';

const SFTP = { SFTP_HOST: '127.0.0.1', SFTP_USER: 'backup', SFTP_PASSWORD: 'sftp-warning-password' };
const KNOWN = 'localhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

function sftpVolume(): Volume {
  const raw = { 'backup-target': 'local,sftp', 'backup-snapshot': 'direct' };
  return {
    record: { name: 'v', createdAt: new Date().toISOString(), options: raw, mountIds: [] },
    options: parseVolumeOptions(raw, { schedule: 'none', retention: '', encryption: 'none' }),
  };
}

describe('sftp without known host keys', () => {
  it('is a warning of the targets that include sftp, and only while no host key is set', async () => {
    const dir = await makeTempDir('sftp-warning');
    const open = new TargetSet(dir, loadRemoteSettings(SFTP));
    assert.deepEqual(open.warnings(['local', 'sftp']), [SFTP_ANY_HOST_KEY]);
    assert.deepEqual(open.warnings(['local', 's3']), []);
    assert.deepEqual(new TargetSet(dir, loadRemoteSettings({ ...SFTP, SFTP_KNOWN_HOSTS: KNOWN })).warnings(['sftp']), []);
    assert.deepEqual(new TargetSet(dir, loadRemoteSettings({})).warnings(['sftp']), [], 'an sftp without settings is refused at create instead');
    assert.match(SFTP_ANY_HOST_KEY, /SFTP_KNOWN_HOSTS/);
  });

  it('shows in the status of a volume whose targets include sftp', async () => {
    const targets = new TargetSet(await makeTempDir('sftp-status'), loadRemoteSettings(SFTP));
    const { runs, volume, scheduler } = await setUpRuns({ targetWarnings: (names) => targets.warnings(names) });
    assert.equal(runs.status.of(volume).warnings, undefined, 'a local volume has none');
    assert.deepEqual(runs.status.of(sftpVolume()).warnings, [SFTP_ANY_HOST_KEY]);
    scheduler.stopAll();
  });

  it('is logged by every run of such a volume, even one whose sftp server does not answer', async () => {
    const dir = await makeTempDir('sftp-run');
    const { logger, lines } = capturingLogger();
    const targets = new TargetSet(join(dir, 'archive'), loadRemoteSettings({ ...SFTP, SFTP_PORT: String(await freePort()) }));
    const volume = sftpVolume();
    const run = () =>
      runBackup(
        { docker: new FakeDocker(), journal: new StopJournal(dir), targets, stopTimeoutSeconds: 5, serviceStopTimeoutSeconds: 5, logger },
        { volume: 'v', options: volume.options!, rawOptions: volume.record.options, dataPath: dir, stagingDir: join(dir, 'staging'), trigger: 'manual' },
      );
    await run();
    await run();
    const warned = lines.filter((line) => line.includes('sftp accepts any host key'));
    assert.equal(warned.length, 2, lines.join(''));
    assert.match(warned[0], /warn/);
  });
});
