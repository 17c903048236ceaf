import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELS, planQuiesce, SERVICE_LABEL, type SwarmView } from '../../src/engine/plan-quiesce';
import type { StopPolicy } from '../../src/vocabulary/volume-options';
import { container, service } from '../helpers/fake-docker';

const web = service('web', { replicas: 3 });
const labelledApi = service('api', { labels: { [LABELS.stop]: 'true' } });
const unlabelled = service('cache');
const task = (id: string, serviceId: string, facts: Parameters<typeof container>[1] = {}) =>
  container(id, { ...facts, labels: { [SERVICE_LABEL]: serviceId, ...facts.labels } });

const manager = (services = [web, labelledApi, unlabelled]): SwarmView => ({ manager: true, services });
const plan = (containers: ReturnType<typeof container>[], swarm: SwarmView | undefined = manager(), policy: StopPolicy = 'attached') =>
  planQuiesce({ volume: 'data', policy, stopLabel: 'true', containers, swarm });
const summary = (result: ReturnType<typeof plan>) => ({
  stop: result.stop.map((stop) => `${stop.name}${stop.serviceId ? ` via ${stop.serviceId}` : ''}${stop.restart ? '' : ' (no restart)'}`),
  scale: result.scale.map((scale) => `${scale.name} from ${scale.replicas}${scale.restart ? '' : ' (no restart)'}`),
});

function rejects(action: () => unknown, message: RegExp): void {
  assert.throws(action, (error: Error) => {
    assert.match(error.message, /Nothing was stopped\.$/, 'a conflict of the plan, refused before anything stopped');
    assert.match(error.message, message);
    return true;
  });
}

describe('planQuiesce in Swarm mode', () => {
  it('scales a replicated service whose task mounts the volume instead of stopping the task, and labelled services too', () => {
    const result = plan([task('web.1', 'web', { volumes: ['data'] }), task('web.2', 'web', { volumes: ['data'] }), task('cache.1', 'cache')]);
    assert.deepEqual(summary(result), { stop: [], scale: ['api from 2', 'web from 3'] });
  });

  it('with backup-stop=labelled scales only labelled services; with none, nothing', () => {
    const attachedTask = [task('web.1', 'web', { volumes: ['data'] })];
    assert.deepEqual(summary(plan(attachedTask, manager(), 'labelled')), { stop: [], scale: ['api from 2'] });
    assert.deepEqual(summary(plan(attachedTask, manager(), 'none')), { stop: [], scale: [] });
  });

  it('stops a labelled task container of an unlabelled service directly and brings it back through its service', () => {
    const result = plan([task('cache.1', 'cache', { labels: { [LABELS.stop]: 'true' } }), container('plain', { labels: { [LABELS.stop]: 'true' } })]);
    assert.deepEqual(summary(result).stop, ['cache.1 via cache', 'plain']);
  });

  it('keeps a no-restart labelled service at 0', () => {
    const oneShot = service('batch', { labels: { [LABELS.stopNoRestart]: 'true' } });
    assert.deepEqual(summary(plan([], manager([oneShot]))).scale, ['batch from 2 (no restart)']);
  });

  it('refuses a labelled container whose service is labelled too, before anything stops', () => {
    rejects(
      () => plan([task('api.1', 'api', { labels: { [LABELS.stop]: 'true' } })]),
      /container api\.1 and its service api are both labelled.*Nothing was stopped/,
    );
  });

  it('refuses a labelled or attached global service', () => {
    const agent = service('agent', { mode: 'global', replicas: 0 });
    rejects(() => plan([task('agent.x', 'agent', { volumes: ['data'] })], manager([agent])), /service agent mounts volume data but is a global-mode service, which cannot be scaled to 0/);
    const labelledAgent = service('agent', { mode: 'global', labels: { [LABELS.stop]: 'true' } });
    rejects(() => plan([], manager([labelledAgent])), /service agent is labelled but is a global-mode service/);
  });

  it('refuses a service with both labels', () => {
    const both = service('both', { labels: { [LABELS.stop]: 'true', [LABELS.stopNoRestart]: 'true' } });
    rejects(() => plan([], manager([both])), /service both has both/);
  });

  it('on a worker node, refuses to quiesce a task container and says what to do', () => {
    rejects(() => plan([task('web.1', 'web', { volumes: ['data'] })], { manager: false, services: [] }), /Swarm worker.*from a manager node, use backup-stop=none/);
    assert.deepEqual(summary(plan([container('plain', { volumes: ['data'] })], { manager: false, services: [] })).stop, ['plain']);
  });

  it('leaves alone a service already at 0 replicas, labelled or mounting the volume, so that it is never scaled back to 0', () => {
    const idle = service('idle', { replicas: 0, labels: { [LABELS.stop]: 'true' } });
    const drained = service('drained', { replicas: 0 });
    const result = plan([task('drained.1', 'drained', { volumes: ['data'] })], manager([idle, drained]));
    assert.deepEqual(summary(result), { stop: [], scale: [] });
    assert.deepEqual(summary(plan([], manager([idle]), 'labelled')), { stop: [], scale: [] });
  });

  it('runs archive-pre on the tasks of a scaled service but no archive-post (those tasks are replaced)', () => {
    const withHooks = { volumes: ['data'], labels: { [LABELS.archivePre]: 'dump', [LABELS.archivePost]: 'cleanup' } };
    const result = plan([task('web.1', 'web', withHooks), container('plain', withHooks)]);
    assert.deepEqual(result.pre.map((command) => command.containerName), ['web.1', 'plain']);
    assert.deepEqual(result.post.map((command) => command.containerName), ['plain']);
  });
});

describe('planQuiesce in Swarm mode with backup-stop=labelled', () => {
  it('runs no archive-post on the tasks of a scaled labelled service, even unlabelled ones that mount the volume', () => {
    const withHooks = { volumes: ['data'], labels: { [LABELS.archivePre]: 'dump', [LABELS.archivePost]: 'cleanup' } };
    const result = plan([task('api.1', 'api', withHooks), task('web.1', 'web', withHooks), container('plain', withHooks)], manager(), 'labelled');
    assert.deepEqual(summary(result), { stop: [], scale: ['api from 2'] });
    assert.deepEqual(result.pre.map((command) => command.containerName), ['api.1', 'web.1', 'plain']);
    assert.deepEqual(result.post.map((command) => command.containerName), ['web.1', 'plain']);
  });
});
