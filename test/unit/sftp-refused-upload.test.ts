import assert from 'node:assert/strict';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadRemoteSettings } from '../../src/settings/target-settings';
import { TargetSet } from '../../src/targets/target-set';
import { startSftpServer, type SftpTestServer } from '../helpers/sftp-server';
import { makeTempDir } from '../helpers/temp-dir';

describe('an SFTP server that refuses the archive file', { timeout: 120_000 }, () => {
  let server: SftpTestServer;

  before(async () => {
    server = await startSftpServer();
  });

  after(async () => {
    await server?.close();
  });

  it('reports the refusal from commit, even when it comes before anything is written (no unhandled rejection)', async () => {
    // The volume's folder exists but the user may not write in it: the server refuses to open the file.
    const folder = join(server.storeDir, 'v');
    await mkdir(folder);
    await chmod(folder, 0o555);
    const settings = loadRemoteSettings({
      SFTP_HOST: server.host,
      SFTP_PORT: String(server.port),
      SFTP_USER: server.user,
      SFTP_PASSWORD: server.password,
      SFTP_PATH: server.storeDir,
    });
    const target = new TargetSet(await makeTempDir('local'), settings).get('sftp');
    const upload = await target.beginUpload('v', 'v-20260101T000000Z.tar.gz');
    upload.stream.on('error', () => undefined); // as the fan-out does
    // The refusal arrives while nobody waits on the upload yet (the pipeline is still starting).
    await sleep(1_000);
    await assert.rejects(upload.commit(), /^Error: target sftp: .*Permission denied/);
    await upload.abort();
    assert.deepEqual(await target.list('v'), []);
  });
});
