import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_ARCHIVE_DIR } from '../helpers/archives';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolCli } from '../helpers/host-cli';
import { createPlugin, enablePlugin, installFreshPlugin, PLUGIN, removePlugin } from '../helpers/plugin';
import { desiredReplicas, ensureSwarm, leaveSwarm, nodeName, waitForRunningTasks } from '../helpers/swarm';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import type { RecreateReport } from '../../src/runs/swarm/recreate-definitions';
import type { SwarmDefinitions } from '../../src/vocabulary/swarm-definitions';

const EXPORT_NAME = /^.+-(\d{8}T\d{6}Z)\.swarm\.json$/;

describe('Swarm definitions: backupvol swarm export, swarm recreate, SWARM_EXPORT_SCHEDULE', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  const network = `${prefix}net`;
  const config = `${prefix}conf`;
  const secret = `${prefix}secret`;
  const app = `${prefix}app`;
  const needsSecret = `${prefix}needs-secret`;
  const configText = `listen 8080; # ${prefix}`;
  const envValue = `env-value-${prefix}never-exported`;
  const startedAt = new Date();
  let createdSwarm = false;
  let exportsFolder = '';
  let dir = '';

  const createService = (name: string, args: string[]) =>
    docker(['service', 'create', '--detach', '--no-resolve-image', '--name', name, ...args, TEST_IMAGE, ...IDLE]);
  const swarmObjects = async (kind: 'network' | 'config' | 'secret' | 'service') =>
    (await docker([kind, 'ls', '--format', '{{.Name}}'])).split('\n').filter((name) => name.startsWith(prefix));

  before(async () => {
    await assertTestImage();
    createdSwarm = await ensureSwarm();
    exportsFolder = join(HOST_ARCHIVE_DIR, '_swarm', await nodeName());
    // Made here and removed in after(): a temporary folder's own after hook, registered in before(), would run at once.
    dir = await mkdtemp(join(tmpdir(), 'backupvol-swarm-definitions-'));
    // An export every 2 s, keeping the last 2 (DEFAULT_RETENTION): the scheduled test sees the prune.
    await removePlugin(PLUGIN);
    await createPlugin(PLUGIN);
    await docker(['plugin', 'set', PLUGIN, 'SWARM_EXPORT_SCHEDULE=*/2 * * * * *', 'DEFAULT_RETENTION=2']);
    await enablePlugin(PLUGIN);
  });

  after(async () => {
    await installFreshPlugin().catch((error: Error) => console.error(`reinstalling the plugin: ${error.message}`));
    // The exports this test's schedule wrote; those of other runs stay.
    for (const name of await readdir(exportsFolder).catch(() => [] as string[])) {
      const stamp = /-(\d{8}T\d{6}Z)\.swarm\.json(?:\.json)?$/.exec(name)?.[1];
      if (stamp && stamp >= startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')) await rm(join(exportsFolder, name), { force: true });
    }
    // Folders left empty go too (another run's exports keep them).
    await rmdir(exportsFolder).catch(() => undefined);
    await rmdir(dirname(exportsFolder)).catch(() => undefined);
    for (const service of await swarmObjects('service').catch(() => [])) await docker(['service', 'rm', service]).catch(() => undefined);
    for (const kind of ['config', 'secret'] as const) {
      for (const name of await swarmObjects(kind).catch(() => [])) await docker([kind, 'rm', name]).catch(() => undefined);
    }
    if (createdSwarm) await leaveSwarm();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a service with its network, config and secret, and recreates them after they are removed', async () => {
    await docker(['network', 'create', '--driver', 'overlay', '--attachable', '--label', `${prefix}=yes`, network]);
    await docker(['config', 'create', config, '-'], { input: configText });
    await docker(['secret', 'create', secret, '-'], { input: 'secret-data-never-exported' });
    await createService(app, ['--replicas', '2', '--network', network, '--config', `source=${config},target=/app.conf`, '--env', `APP_PASSWORD=${envValue}`]);
    await createService(needsSecret, ['--replicas', '1', '--secret', secret]);
    await waitForRunningTasks(app, 2);
    await waitForRunningTasks(needsSecret, 1);

    const file = join(dir, 'swarm.json');
    const exported = await backupvolCli(['swarm', 'export', '--out', file]);
    assert.equal(exported.code, 0, exported.stderr);
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(envValue), 'no environment value in the export');
    assert.doesNotMatch(text, /secret-data-never-exported/);
    const document = JSON.parse(text) as SwarmDefinitions;
    const appSpec = document.services.find((service) => service.name === app)?.spec as { TaskTemplate: { ContainerSpec: { EnvNames: string[] }; Networks: Array<{ Target: string }> } };
    assert.deepEqual(appSpec.TaskTemplate.ContainerSpec.EnvNames, ['APP_PASSWORD']);
    assert.equal(appSpec.TaskTemplate.Networks[0].Target, network);
    assert.equal(Buffer.from(document.configs.find((entry) => entry.name === config)?.spec.Data ?? '', 'base64').toString(), configText);
    assert.deepEqual(document.secrets.find((entry) => entry.name === secret), { id: document.secrets.find((entry) => entry.name === secret)?.id, name: secret, labels: {} });
    assert.ok(!document.networks.some((entry) => entry.name === 'ingress'), 'the predefined ingress network is not exported');

    await docker(['service', 'rm', app, needsSecret]);
    await eventually('the tasks of the removed services are gone', async () => (await docker(['ps', '--all', '--quiet', '--filter', `name=${prefix}`])).trim() === '', 90_000);
    await eventually(`network ${network} is removed`, () => docker(['network', 'rm', network]).then(() => true, () => false), 60_000, 2_000);
    await docker(['config', 'rm', config]);
    await docker(['secret', 'rm', secret]);

    const dryRun = await backupvolCli(['swarm', 'recreate', file, '--dry-run', '--json']);
    assert.equal(dryRun.code, 1, 'a missing secret leaves the recreate incomplete');
    const planned = JSON.parse(dryRun.stdout) as RecreateReport;
    const outcome = (report: RecreateReport, kind: string, name: string) => report.objects.find((object) => object.kind === kind && object.name === name);
    assert.equal(outcome(planned, 'network', network)?.outcome, 'would create');
    assert.equal(outcome(planned, 'config', config)?.outcome, 'would create');
    assert.equal(outcome(planned, 'secret', secret)?.outcome, 'missing');
    assert.equal(outcome(planned, 'service', app)?.outcome, 'would create');
    assert.equal(outcome(planned, 'service', needsSecret)?.detail, `it needs secret ${secret}`);
    assert.deepEqual([...(await swarmObjects('network')), ...(await swarmObjects('config')), ...(await swarmObjects('service'))], [], 'a dry run creates nothing');

    const recreated = await backupvolCli(['swarm', 'recreate', file]);
    assert.equal(recreated.code, 1);
    assert.match(recreated.stdout, new RegExp(`created +network ${network}`));
    assert.match(recreated.stdout, new RegExp(`created +config ${config}`));
    assert.match(recreated.stdout, new RegExp(`created +service ${app} \\(2 replicas\\)`));
    assert.match(recreated.stdout, /not restored: the values of its environment variables APP_PASSWORD/);
    assert.match(recreated.stdout, new RegExp(`missing +secret ${secret}: its data is never exported`));
    assert.match(recreated.stdout, new RegExp(`not created +service ${needsSecret} \\(1 replica\\): it needs secret ${secret}`));

    const [task] = await waitForRunningTasks(app, 2);
    assert.equal(await desiredReplicas(app), 2);
    assert.equal(await docker(['exec', task, 'cat', '/app.conf']), configText);
    const networks = Object.keys(JSON.parse(await docker(['inspect', '--format', '{{json .NetworkSettings.Networks}}', task])) as Record<string, unknown>);
    assert.ok(networks.includes(network), `the task is on ${network} (${networks.join(', ')})`);
    assert.doesNotMatch(await docker(['inspect', '--format', '{{json .Config.Env}}', task]), /APP_PASSWORD/);

    // Once the secret is there again, a second recreate makes the service that needed it, and leaves the rest.
    await docker(['secret', 'create', secret, '-'], { input: 'the operator typed it again' });
    const second = await backupvolCli(['swarm', 'recreate', file, '--json']);
    const report = JSON.parse(second.stdout) as RecreateReport;
    assert.equal(outcome(report, 'service', app)?.outcome, 'exists');
    assert.equal(outcome(report, 'network', network)?.outcome, 'exists');
    assert.equal(outcome(report, 'service', needsSecret)?.outcome, 'created');
    assert.equal(second.code, report.complete ? 0 : 1);
    await waitForRunningTasks(needsSecret, 1);
  });

  it('SWARM_EXPORT_SCHEDULE stores the export under _swarm/NODE/ of the target and prunes it like archives', async () => {
    const seen = new Set<string>();
    let current: string[] = [];
    await eventually('three scheduled exports written, the oldest pruned', async () => {
      current = (await readdir(exportsFolder).catch(() => [] as string[])).filter((name) => EXPORT_NAME.test(name)).sort();
      for (const name of current) seen.add(name);
      const oldest = [...seen].sort()[0];
      return seen.size >= 3 && current.length === 2 && !current.includes(oldest);
    }, 60_000, 300);
    const newest = current[current.length - 1];
    const manifest = JSON.parse(await readFile(join(exportsFolder, `${newest}.json`), 'utf8')) as { archive: string; sha256: string };
    assert.equal(manifest.archive, newest);
    const stored = JSON.parse(await readFile(join(exportsFolder, newest), 'utf8')) as SwarmDefinitions;
    assert.ok(stored.services.some((service) => service.name === app), `the stored export holds ${app}`);
    assert.doesNotMatch(JSON.stringify(stored), new RegExp(envValue));
  });
});
