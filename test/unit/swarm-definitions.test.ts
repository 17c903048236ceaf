import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SwarmDefinitionsApi, SwarmInfo } from '../../src/engine/docker-api';
import { MASK } from '../../src/engine/redact-spec';
import { exportSwarmDefinitions, type SwarmSources } from '../../src/runs/swarm/export-definitions';
import { recreateSwarmDefinitions } from '../../src/runs/swarm/recreate-definitions';
import { storeSwarmExport, SWARM_FOLDER } from '../../src/runs/swarm/stored-exports';
import { heldReplicasOf, SwarmExports, targetsOfVolumes } from '../../src/runs/swarm/swarm-exports';
import { loadSettings } from '../../src/settings/settings';
import { LocalTarget } from '../../src/targets/local-target';
import { parseSwarmDefinitions, type ConfigDefinition, type NetworkDefinition, type SecretDefinition, type ServiceDefinition } from '../../src/vocabulary/swarm-definitions';
import { capturingLogger } from '../helpers/capturing-logger';
import { makeTempDir } from '../helpers/temp-dir';

const MANAGER: SwarmInfo = { active: true, manager: true, nodeName: 'node-1' };

/** A cluster in memory: what the definitions API reads, and a log of what it was asked to create. */
class FakeCluster implements SwarmDefinitionsApi {
  networkList: NetworkDefinition[] = [];
  configList: ConfigDefinition[] = [];
  secretList: SecretDefinition[] = [];
  serviceList: ServiceDefinition[] = [];
  readonly created: Array<{ kind: string; spec: Record<string, unknown> }> = [];
  private next = 0;

  async networks() {
    return structuredClone(this.networkList);
  }
  async configs() {
    return structuredClone(this.configList);
  }
  async secrets() {
    return structuredClone(this.secretList);
  }
  async services() {
    return structuredClone(this.serviceList);
  }
  async createNetwork(spec: Record<string, unknown>) {
    return this.add('network', spec, (id) => this.networkList.push({ id, name: String(spec.Name), spec }));
  }
  async createConfig(spec: Record<string, unknown>) {
    return this.add('config', spec, (id) => this.configList.push({ id, name: String(spec.Name), spec: spec as ConfigDefinition['spec'] }));
  }
  async createService(spec: Record<string, unknown>) {
    if (spec.Name === 'refused') throw new Error('rpc error: invalid mount config');
    return this.add('service', spec, (id) => this.serviceList.push({ id, name: String(spec.Name), spec }));
  }
  private add(kind: string, spec: Record<string, unknown>, keep: (id: string) => void): string {
    const id = `new-${kind}-${++this.next}`;
    this.created.push({ kind, spec: structuredClone(spec) });
    keep(id);
    return id;
  }
}

function webService(): ServiceDefinition {
  return {
    id: 'svc-web',
    name: 'web',
    spec: {
      Name: 'web',
      Labels: { 'com.docker.stack.namespace': 'shop' },
      Mode: { Replicated: { Replicas: 3 } },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'shop/web:1.4',
          Args: ['--db-password', 'hunter2', '--port', '80'],
          EnvNames: ['DB_PASSWORD', 'MODE'],
          Secrets: [{ SecretID: 'old-secret', SecretName: 'db-password', File: { Name: 'db-password' } }],
          Configs: [{ ConfigID: 'old-config', ConfigName: 'nginx-conf', File: { Name: '/etc/nginx.conf' } }],
        },
        Networks: [{ Target: 'old-net', Aliases: ['web'] }],
      },
    },
  };
}

function clusterWithWeb(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.networkList = [{ id: 'old-net', name: 'shop-net', spec: { Name: 'shop-net', Driver: 'overlay', Scope: 'swarm', Labels: {} } }];
  cluster.configList = [{ id: 'old-config', name: 'nginx-conf', spec: { Name: 'nginx-conf', Labels: { api_token: 'tok' }, Data: Buffer.from('worker_processes 2;').toString('base64') } }];
  cluster.secretList = [{ id: 'old-secret', name: 'db-password', labels: { owner: 'shop' } }];
  cluster.serviceList = [webService()];
  return cluster;
}

function sources(cluster: FakeCluster, info: SwarmInfo = MANAGER, held = new Map<string, number>()): SwarmSources {
  return { docker: { swarmInfo: async () => info }, definitions: cluster, heldReplicas: async () => held };
}

describe('backupvol swarm export', () => {
  it('holds every definition, network names for IDs, masked credentials and no secret data', async () => {
    const document = await exportSwarmDefinitions(sources(clusterWithWeb()), new Date('2026-12-03T10:00:00Z'));
    assert.equal(document.node, 'node-1');
    assert.equal(document.exportedAt, '2026-12-03T10:00:00.000Z');
    assert.deepEqual(document.networks.map((network) => network.name), ['shop-net']);
    assert.deepEqual(document.secrets, [{ id: 'old-secret', name: 'db-password', labels: { owner: 'shop' } }]);
    assert.equal(Buffer.from(document.configs[0].spec.Data, 'base64').toString(), 'worker_processes 2;');
    assert.equal(document.configs[0].spec.Labels?.api_token, MASK);
    const spec = document.services[0].spec as { TaskTemplate: { Networks: Array<{ Target: string }>; ContainerSpec: { Args: string[]; EnvNames: string[] } } };
    assert.equal(spec.TaskTemplate.Networks[0].Target, 'shop-net');
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Args, ['--db-password', MASK, '--port', '80']);
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.EnvNames, ['DB_PASSWORD', 'MODE']);
    assert.doesNotMatch(JSON.stringify(document), /hunter2/);
  });

  it('keeps the replica count a running backup brings a service back to, not its 0', async () => {
    const cluster = clusterWithWeb();
    (cluster.serviceList[0].spec.Mode as { Replicated: { Replicas: number } }).Replicated.Replicas = 0;
    const document = await exportSwarmDefinitions(sources(cluster, MANAGER, new Map([['svc-web', 3]])));
    assert.deepEqual(document.services[0].spec.Mode, { Replicated: { Replicas: 3 } });
  });

  it('reads the held replicas from the stop journal, leaving out services that stay down', async () => {
    const journal = {
      pending: async () => [
        { volume: 'a', stoppedAt: '2026-12-03T03:00:00Z', containers: [], services: [{ id: 's1', name: 'one', replicas: 2, restart: true }, { id: 's2', name: 'two', replicas: 5, restart: false }] },
        { volume: 'b', stoppedAt: '2026-12-03T03:00:00Z', containers: [] },
      ],
    };
    assert.deepEqual([...(await heldReplicasOf(journal))], [['s1', 2]]);
  });

  it('says a manager is needed on a worker, and a swarm outside one', async () => {
    await assert.rejects(exportSwarmDefinitions(sources(clusterWithWeb(), { active: true, manager: false, nodeName: 'w1' })), /needs a Swarm manager: w1 is a worker node/);
    await assert.rejects(recreateSwarmDefinitions(sources(new FakeCluster(), { active: false, manager: false, nodeName: 'h' }), await exportOf(clusterWithWeb()), false), /needs a Swarm manager: this node \(h\) is not in a swarm/);
  });
});

async function exportOf(cluster: FakeCluster) {
  return parseSwarmDefinitions(JSON.parse(JSON.stringify(await exportSwarmDefinitions(sources(cluster)))));
}

describe('backupvol swarm recreate', () => {
  it('creates networks and configs, then the service on their new IDs, and says what it could not restore', async () => {
    const document = await exportOf(clusterWithWeb());
    const fresh = new FakeCluster();
    fresh.secretList = [{ id: 'fresh-secret', name: 'db-password', labels: {} }];
    const report = await recreateSwarmDefinitions(sources(fresh), document, false);
    assert.deepEqual(fresh.created.map((made) => `${made.kind} ${String(made.spec.Name)}`), ['network shop-net', 'config nginx-conf', 'service web']);
    const service = fresh.created[2].spec as { Mode: unknown; TaskTemplate: { Networks: Array<{ Target: string }>; ContainerSpec: Record<string, unknown> } };
    assert.deepEqual(service.Mode, { Replicated: { Replicas: 3 } });
    assert.equal(service.TaskTemplate.Networks[0].Target, 'new-network-1');
    assert.equal((service.TaskTemplate.ContainerSpec.Configs as Array<{ ConfigID: string }>)[0].ConfigID, 'new-config-2');
    assert.equal((service.TaskTemplate.ContainerSpec.Secrets as Array<{ SecretID: string }>)[0].SecretID, 'fresh-secret');
    assert.equal(service.TaskTemplate.ContainerSpec.EnvNames, undefined);
    assert.equal(report.complete, true);
    const web = report.objects.find((object) => object.kind === 'service');
    assert.equal(web?.outcome, 'created');
    assert.equal(web?.replicas, 3);
    assert.match(web?.notRestored?.[0] ?? '', /environment variables DB_PASSWORD, MODE/);
    assert.match(web?.notRestored?.[1] ?? '', /TaskTemplate\.ContainerSpec\.Args\[1\]/);
  });

  it('leaves alone what exists, names a missing secret, and does not create the service that needs it', async () => {
    const document = await exportOf(clusterWithWeb());
    const partial = new FakeCluster();
    partial.networkList = [{ id: 'here-net', name: 'shop-net', spec: {} }];
    const report = await recreateSwarmDefinitions(sources(partial), document, false);
    assert.deepEqual(partial.created.map((made) => made.kind), ['config']);
    assert.deepEqual(
      report.objects.map((object) => `${object.kind} ${object.name} ${object.outcome}`),
      ['network shop-net exists', 'config nginx-conf created', 'secret db-password missing', 'service web not created'],
    );
    assert.match(report.objects[2].detail ?? '', /docker secret create db-password/);
    assert.equal(report.objects[3].detail, 'it needs secret db-password');
    assert.equal(report.complete, false);
  });

  it('a dry run creates nothing and says what it would create', async () => {
    const document = await exportOf(clusterWithWeb());
    const fresh = new FakeCluster();
    fresh.secretList = [{ id: 'fresh-secret', name: 'db-password', labels: {} }];
    const report = await recreateSwarmDefinitions(sources(fresh), document, true);
    assert.deepEqual(fresh.created, []);
    assert.deepEqual(report.objects.map((object) => object.outcome), ['would create', 'would create', 'exists', 'would create']);
    assert.equal(report.dryRun, true);
  });

  it('a service the engine refuses is reported failed with its reason, and the others are still made', async () => {
    const cluster = new FakeCluster();
    cluster.serviceList = [{ id: 'r', name: 'refused', spec: { Name: 'refused' } }, { id: 'o', name: 'other', spec: { Name: 'other' } }];
    const report = await recreateSwarmDefinitions(sources(new FakeCluster()), await exportOf(cluster), false);
    assert.deepEqual(report.objects.map((object) => `${object.name} ${object.outcome} ${object.detail ?? ''}`.trim()), ['refused failed rpc error: invalid mount config', 'other created']);
    assert.equal(report.complete, false);
  });

  it('refuses a document that is not a swarm export, saying so', () => {
    assert.throws(() => parseSwarmDefinitions({ services: [] }), /not a backupvol swarm export/);
    assert.throws(() => parseSwarmDefinitions([]), /not a JSON object/);
    const good = { format: 'backupvol-swarm-definitions', version: 1, networks: [], configs: [], secrets: [], services: [{ id: 'x', spec: {} }] };
    assert.throws(() => parseSwarmDefinitions(good), /services\[0\] has no name/);
  });
});

describe('SWARM_EXPORT_SCHEDULE: stored exports', () => {
  it('writes _swarm/NODE/NODE-STAMP.swarm.json with a manifest, and prunes with the retention of archives', async () => {
    const root = await makeTempDir('swarm-exports');
    const target = new LocalTarget(root);
    const document = await exportOf(clusterWithWeb());
    const times = ['2026-12-01T03:00:00Z', '2026-12-02T03:00:00Z', '2026-12-03T03:00:00Z'].map((time) => new Date(time));
    let last;
    for (const time of times) [last] = await storeSwarmExport([target], document, { kind: 'keep-last', count: 2 }, time);
    assert.deepEqual(last, { target: 'local', path: '_swarm/node-1/node-1-20261203T030000Z.swarm.json', pruned: ['node-1-20261201T030000Z.swarm.json'] });
    const folder = join(root, SWARM_FOLDER, 'node-1');
    // A partial upload left by a killed export is removed by the next one; the complete exports stay.
    await writeFile(join(folder, '.partial-node-1-20261204T030000Z.swarm.json'), '{');
    await target.removeIncomplete(`${SWARM_FOLDER}/node-1`);
    assert.deepEqual((await readdir(folder)).sort(), [
      'node-1-20261202T030000Z.swarm.json',
      'node-1-20261202T030000Z.swarm.json.json',
      'node-1-20261203T030000Z.swarm.json',
      'node-1-20261203T030000Z.swarm.json.json',
    ]);
    const stored = parseSwarmDefinitions(JSON.parse(await readFile(join(folder, 'node-1-20261203T030000Z.swarm.json'), 'utf8')));
    assert.deepEqual(stored.services.map((service) => service.name), ['web']);
    const manifest = JSON.parse(await readFile(join(folder, 'node-1-20261203T030000Z.swarm.json.json'), 'utf8')) as { fileCount: number; options: { contents: string } };
    assert.equal(manifest.fileCount, 4);
    assert.equal(manifest.options.contents, '1 service, 1 network, 1 config, 1 secret');
  });

  it('a scheduled run on a manager asks the engine once and stores; on a worker it stores nothing and says why', async () => {
    const root = await makeTempDir('swarm-scheduled');
    const target = new LocalTarget(root);
    let asked = 0;
    const run = async (info: SwarmInfo) => {
      const { logger, lines } = capturingLogger();
      const counted = { ...sources(clusterWithWeb()), docker: { swarmInfo: async () => (asked++, info) } };
      const exports = new SwarmExports({ sources: counted, exportTargets: () => [target], retention: () => ({ kind: 'keep-all' }), logger });
      await exports.runScheduled(new Date('2026-12-03T04:00:00Z'));
      return lines.join('');
    };
    assert.match(await run({ active: true, manager: false, nodeName: 'w1' }), /skipped, w1 is a worker node/);
    assert.deepEqual(await readdir(root), []);
    asked = 0;
    assert.match(await run(MANAGER), /Stored the swarm's definitions \(1 service, 1 network, 1 config, 1 secret\) on local as _swarm\/node-1\/node-1-20261203T040000Z\.swarm\.json/);
    assert.equal(asked, 1);
  });

  it('goes to the targets the volumes use, or the local folder when there is none', () => {
    assert.deepEqual(targetsOfVolumes([['s3', 'local'], ['sftp']], ['local', 's3', 'sftp']), ['local', 's3', 'sftp']);
    assert.deepEqual(targetsOfVolumes([['webdav']], ['local']), ['local']);
    assert.deepEqual(targetsOfVolumes([], ['local', 's3']), ['local']);
  });

  it('the setting takes a cron schedule or none, and refuses anything else saying what it takes', () => {
    assert.equal(loadSettings({}).swarmExportSchedule, undefined);
    assert.equal(loadSettings({ SWARM_EXPORT_SCHEDULE: 'none' }).swarmExportSchedule, undefined);
    assert.equal(loadSettings({ SWARM_EXPORT_SCHEDULE: '0  4 * * *' }).swarmExportSchedule, '0 4 * * *');
    assert.throws(() => loadSettings({ SWARM_EXPORT_SCHEDULE: 'daily' }), /setting SWARM_EXPORT_SCHEDULE=daily: .*cron expression/);
  });
});
