import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { docker } from '../helpers/docker-cli';
import { freePort, waitForPort } from '../helpers/free-port';
import { backupvolJson } from '../helpers/host-cli';
import { createPlugin, enablePlugin, installFreshPlugin, PLUGIN, removePlugin } from '../helpers/plugin';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import type { HealthReport } from '../../src/runs/health';
import type { RunRecord } from '../../src/vocabulary/run-record';

async function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

async function refused(port: number): Promise<boolean> {
  return get(port, '/healthz').then(
    () => false,
    (error: Error) => /ECONNREFUSED/.test(String((error.cause as Error | undefined)?.message ?? error.message)),
  );
}

describe('METRICS_ADDR: /metrics and /healthz of the real plugin', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const volume = `${prefix}metrics`;
  const passphrase = `gpg-${randomBytes(12).toString('hex')}`;
  const s3Secret = `s3secret${randomBytes(12).toString('hex')}`;
  let port = 0;
  let record: RunRecord;

  before(async () => {
    await assertTestImage();
    port = await freePort();
    // The plugin uses the host's network (config.json): it listens on this machine's 127.0.0.1.
    await removePlugin(PLUGIN);
    await createPlugin(PLUGIN);
    await docker([
      'plugin', 'set', PLUGIN,
      `METRICS_ADDR=127.0.0.1:${port}`,
      `GPG_PASSPHRASE=${passphrase}`,
      // Incomplete on purpose (no bucket): the s3 target stays unusable, but the secret is loaded.
      'S3_ACCESS_KEY_ID=backupvol-e2e',
      `S3_SECRET_ACCESS_KEY=${s3Secret}`,
    ]);
    await enablePlugin(PLUGIN);
    await waitForPort(port, 30_000);
  });

  after(async () => {
    // Leave the plugin as the other suites expect it: a fresh install with default settings.
    await installFreshPlugin().catch((error: Error) => console.error(`reinstalling the plugin: ${error.message}`));
  });

  it("reports a backed-up volume's series with the values of its run, and no secret", async () => {
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=@daily', '-o', 'backup-encryption=gpg', volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', 'seq 1 20000 > /data/numbers && echo hello > /data/greeting']);
    record = await backupvolJson<RunRecord>(['backup', volume]);
    assert.equal(record.result, 'success', record.error);

    const answer = await get(port, '/metrics');
    assert.equal(answer.status, 200);
    assert.match(answer.type, /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(answer.body);
    const ours = { volume };
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume, result: 'success' }), 1);
    assert.equal(sampleValue(samples, 'backupvol_backups_total', { volume, result: 'failed' }), 0);
    const bytes = sampleValue(samples, 'backupvol_archive_bytes', ours);
    assert.ok(bytes !== undefined && bytes > 0, `archive bytes ${bytes}`);
    assert.equal(bytes, record.bytes);
    assert.equal(sampleValue(samples, 'backupvol_archives', ours), 1);
    assert.equal(sampleValue(samples, 'backupvol_last_success_timestamp_seconds', ours), Date.parse(record.finishedAt) / 1000);
    assert.equal(sampleValue(samples, 'backupvol_backup_duration_seconds', ours), record.durationMs / 1000);
    assert.equal(sampleValue(samples, 'backupvol_downtime_seconds', ours), record.downtimeMs === undefined ? undefined : record.downtimeMs / 1000);
    const next = sampleValue(samples, 'backupvol_next_run_timestamp_seconds', ours) ?? 0;
    assert.ok(next > Date.now() / 1000 && next <= Date.now() / 1000 + 86_400, `next run at ${next}`);
    assert.ok(samples.some((sample) => sample.name === 'process_resident_memory_bytes'), "prom-client's process metrics");

    for (const secret of [passphrase, s3Secret]) assert.ok(!answer.body.includes(secret), 'a configured secret appears in /metrics');
    const labels = new Set(samples.filter((sample) => sample.name.startsWith('backupvol_')).flatMap((sample) => Object.keys(sample.labels)));
    assert.deepEqual([...labels].sort(), ['result', 'volume']);
  });

  it('/healthz answers 200 with the Docker API and the local target ok', async () => {
    const answer = await get(port, '/healthz');
    assert.equal(answer.status, 200, answer.body);
    const report = JSON.parse(answer.body) as HealthReport;
    assert.equal(report.ok, true);
    assert.equal(report.docker.ok, true);
    assert.deepEqual(report.targets.find((target) => target.name === 'local'), { name: 'local', ok: true, at: record.finishedAt });
    for (const secret of [passphrase, s3Secret]) assert.ok(!answer.body.includes(secret), 'a configured secret appears in /healthz');
  });

  it('stops listening when the plugin is disabled', async () => {
    await docker(['plugin', 'disable', '-f', PLUGIN]);
    assert.equal(await refused(port), true, `something still answers on 127.0.0.1:${port}`);
    // Enabled again for the cleanup, which removes this file's volume through the plugin.
    await enablePlugin(PLUGIN);
  });
});
