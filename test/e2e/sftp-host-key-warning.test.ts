import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { backupStatus } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { markEngineLog, pluginLogSince, type LogMark } from '../helpers/engine-log';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/free-port';
import { createPlugin, enablePlugin, PLUGIN, pluginId, removePlugin } from '../helpers/plugin';
import { useUniquePrefix } from '../helpers/unique-prefix';

describe('sftp without known host keys', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();
  let mark: LogMark;
  let id: string;

  before(async () => {
    await removePlugin(PLUGIN);
    await createPlugin(PLUGIN);
    // A port nothing listens on: the warning is about the settings, not the server.
    const port = await freePort();
    await docker(['plugin', 'set', PLUGIN, 'SFTP_HOST=127.0.0.1', `SFTP_PORT=${port}`, 'SFTP_USER=backup', 'SFTP_PASSWORD=e2e-host-key-password']);
    mark = await markEngineLog();
    await enablePlugin(PLUGIN);
    id = await pluginId(PLUGIN);
  });

  it('is a warning in the log at start and in the status of volumes that back up to sftp, not of others', async () => {
    await eventually('the start-up warning is logged', async () =>
      (await pluginLogSince(mark, [id])).some((line) => /WARNING: sftp accepts any host key/.test(line)),
    );
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-target=local,sftp', `${prefix}to-sftp`]);
    await docker(['volume', 'create', '-d', PLUGIN, `${prefix}local-only`]);
    const warned = (await backupStatus(`${prefix}to-sftp`)) as unknown as { warnings?: string[] };
    assert.equal(warned.warnings?.length, 1);
    assert.match(warned.warnings?.[0] ?? '', /sftp accepts any host key: SFTP_KNOWN_HOSTS and SFTP_KNOWN_HOSTS_FILE are not set/);
    const local = (await backupStatus(`${prefix}local-only`)) as unknown as { warnings?: string[] };
    assert.equal(local.warnings, undefined);
  });
});
