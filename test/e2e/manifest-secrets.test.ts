import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { HOST_ARCHIVE_DIR } from '../helpers/archives';
import { docker } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { installFreshPlugin, PLUGIN } from '../helpers/plugin';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

const PRE = 'docker-volume-backup.archive-pre';
const SECRET = 'Kq7-e2e-never-recorded';
/** IDLE (test-image.ts) with a credential among the container's Cmd arguments ($1 of the script). */
const IDLE_WITH_ARGS = [...IDLE, 'idle', `--password=${SECRET}`];

interface RunResult {
  result: string;
  archive?: string;
  error?: string;
}

describe('credentials of stopped containers stay out of manifests, statuses and errors', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  it('masks the hook, secret-naming labels and credential arguments in the manifest; keeps the label keys', async () => {
    const volume = `${prefix}db`;
    const app = `${prefix}db-app`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-snapshot=direct', volume]);
    await docker([
      'run', '-d', '--name', app, '-v', `${volume}:/data`,
      '--label', `${PRE}=echo dump -uroot -p${SECRET} > /data/dump.sql`,
      '--label', `app.db-password=${SECRET}`,
      '--label', 'app.tier=database',
      TEST_IMAGE, ...IDLE_WITH_ARGS,
    ]);
    const record = await backupvolJson<RunResult>(['backup', volume]);
    assert.equal(record.result, 'success', record.error);
    const text = await readFile(join(HOST_ARCHIVE_DIR, volume, `${record.archive}.json`), 'utf8');
    assert.ok(!text.includes(SECRET), text);
    const spec = JSON.parse(text).stopped.specs.containers[0];
    assert.equal(spec.labels[PRE], '[redacted]');
    assert.equal(spec.labels['app.db-password'], '[redacted]');
    assert.equal(spec.labels['app.tier'], 'database');
    assert.deepEqual(spec.cmd.slice(-1), ['--password=[redacted]']);
  });

  it('masks the output of a failed hook in the run result and the status', async () => {
    const volume = `${prefix}hook`;
    const app = `${prefix}hook-app`;
    await docker(['volume', 'create', '-d', PLUGIN, volume]);
    await docker(['run', '-d', '--name', app, '-v', `${volume}:/data`, '--label', `${PRE}=set -x; mysqldump -uroot -p${SECRET} db; exit 3`, TEST_IMAGE, ...IDLE_WITH_ARGS]);
    const outcome = await backupvolCli(['backup', volume, '--json']);
    assert.equal(outcome.code, 1);
    const record = JSON.parse(outcome.stdout) as RunResult;
    assert.match(record.error ?? '', /archive-pre command in container .* exited with 3: .*-p\[redacted\]/s);
    const inspect = await docker(['volume', 'inspect', volume]);
    assert.ok(!(outcome.stdout + outcome.stderr + inspect).includes(SECRET), inspect);
  });
});
