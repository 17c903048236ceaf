import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { restartJournaledContainers } from '../../src/engine/restart-journaled';
import { runLabelCommands, stopContainers } from '../../src/engine/stop-containers';
import { StopJournal } from '../../src/engine/stop-journal';
import { capturingLogger } from '../helpers/capturing-logger';
import { container, FakeDocker, service } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const logger = createSilentLogger();
const stops = [
  { id: 'a', name: 'a', restart: true },
  { id: 'b', name: 'b', restart: false },
];

describe('stopContainers', () => {
  it('journals, stops, and its undo starts only the restartable ones and clears the journal', async () => {
    const docker = new FakeDocker([container('a'), container('b')]);
    const journal = new StopJournal(await makeTempDir('journal'));
    const resume = await stopContainers({ docker, journal, volume: 'v', stops, maxTimeoutSeconds: 5, logger });
    assert.deepEqual((await journal.pending()).map((entry) => entry.containers.map((c) => c.id)), [['a', 'b']]);
    assert.deepEqual(docker.calls, ['stop a', 'stop b']);
    await resume();
    assert.deepEqual(docker.calls, ['stop a', 'stop b', 'start a']);
    assert.deepEqual(await journal.pending(), []);
  });

  it('starts the stopped ones again and fails clearly when a container refuses to stop', async () => {
    const docker = new FakeDocker([container('a'), container('b')]);
    docker.refuseToStop.add('b');
    const journal = new StopJournal(await makeTempDir('journal'));
    await assert.rejects(
      stopContainers({ docker, journal, volume: 'v', stops: [stops[0], { ...stops[1], restart: true }], maxTimeoutSeconds: 5, logger }),
      /refused to stop: b: container b did not stop in time/,
    );
    assert.ok(docker.containers.every((c) => c.running));
    assert.deepEqual(await journal.pending(), []);
  });

  it('a journal left by a killed run restarts its containers on the next start', async () => {
    const docker = new FakeDocker([container('a', { running: false }), container('b', { running: false })]);
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', stops);
    await restartJournaledContainers(docker, journal, logger);
    assert.deepEqual(docker.calls, ['start a']);
    assert.deepEqual(await journal.pending(), []);
  });
});

describe('runLabelCommands', () => {
  it('runs each command and stops at the first failure with its exit code and output', async () => {
    const docker = new FakeDocker([container('db')]);
    docker.execResults.set('false', { exitCode: 3, output: 'dump failed: disk full' });
    const commands = [
      { containerId: 'db', containerName: 'db', command: 'true' },
      { containerId: 'db', containerName: 'db', command: 'false' },
      { containerId: 'db', containerName: 'db', command: 'never' },
    ];
    await assert.rejects(
      runLabelCommands({ docker, commands, phase: 'archive-pre', logger }),
      /archive-pre command in container db exited with 3: dump failed: disk full/,
    );
    assert.deepEqual(docker.calls, ['exec db true', 'exec db false']);
  });
});

describe('stopContainers with Swarm services', () => {
  const scales = [
    { id: 'web', name: 'web', replicas: 3, restart: true },
    { id: 'batch', name: 'batch', replicas: 2, restart: false },
  ];

  it('journals the former replica counts, scales to 0, and its undo scales back and force-updates stopped tasks', async () => {
    const docker = new FakeDocker([container('cache.1')]);
    docker.services = [service('web', { replicas: 3 }), service('batch'), service('cache', { replicas: 1 })];
    const journal = new StopJournal(await makeTempDir('journal'));
    const taskStop = [{ id: 'cache.1', name: 'cache.1', restart: true, serviceId: 'cache' }];
    const resume = await stopContainers({ docker, journal, volume: 'v', stops: taskStop, scales, maxTimeoutSeconds: 5, logger });
    assert.deepEqual((await journal.pending())[0].services, scales);
    assert.deepEqual(docker.calls.sort(), ['scale batch 0', 'scale web 0', 'stop cache.1']);
    docker.calls.length = 0;
    await resume();
    assert.deepEqual(docker.calls.sort(), ['force-update cache', 'scale web 3']);
    assert.deepEqual(await journal.pending(), []);
  });

  it('scales back what it scaled when a task does not stop within SERVICE_STOP_TIMEOUT', async () => {
    const docker = new FakeDocker([]);
    docker.services = [service('web', { replicas: 3 }), service('batch')];
    docker.lingeringTasks.add('web');
    const journal = new StopJournal(await makeTempDir('journal'));
    await assert.rejects(
      stopContainers({ docker, journal, volume: 'v', stops: [], scales, maxTimeoutSeconds: 5, serviceTimeoutSeconds: 1, logger }),
      /refused to stop: service web: 1 task\(s\) still running after 1 s \(SERVICE_STOP_TIMEOUT\)/,
    );
    assert.equal(docker.services.find((s) => s.id === 'web')?.replicas, 3);
    assert.deepEqual(await journal.pending(), []);
  });

  it('a journal left by a killed run scales its services back to the journaled count on the next start', async () => {
    const docker = new FakeDocker([]);
    docker.services = [service('web', { replicas: 0 }), service('batch', { replicas: 0 })];
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [], scales);
    await restartJournaledContainers(docker, journal, logger);
    assert.deepEqual(docker.calls, ['scale web 3']);
    assert.deepEqual(await journal.pending(), []);
  });
});

describe('bringing back what failed to come back', () => {
  const web = { id: 'web', name: 'web', replicas: 3, restart: true };
  const noDelays = [0, 0, 0, 0];

  it('an undo that fails keeps in the journal only what is still to bring back', async () => {
    const docker = new FakeDocker([container('a'), container('b')]);
    docker.services = [service('web', { replicas: 3 })];
    const journal = new StopJournal(await makeTempDir('journal'));
    const resume = await stopContainers({ docker, journal, volume: 'v', stops, scales: [web], maxTimeoutSeconds: 5, logger });
    docker.failingScales.set('web', 1);
    await assert.rejects(resume(), /could not bring back: service web \(back to 3\): service web could not be scaled/);
    assert.ok(docker.containers.find((c) => c.id === 'a')?.running);
    assert.deepEqual(
      (await journal.pending()).map((entry) => ({ volume: entry.volume, containers: entry.containers, services: entry.services })),
      [{ volume: 'v', containers: [], services: [web] }],
    );
  });

  it('a stop that fails, and whose undo fails too, keeps in the journal what is still stopped', async () => {
    const docker = new FakeDocker([container('a'), container('b')]);
    docker.refuseToStop.add('b');
    docker.refuseToStart.add('a');
    const journal = new StopJournal(await makeTempDir('journal'));
    await assert.rejects(stopContainers({ docker, journal, volume: 'v', stops, maxTimeoutSeconds: 5, logger }), /refused to stop: b/);
    assert.deepEqual((await journal.pending()).map((entry) => entry.containers), [[stops[0]]]);
  });

  it('at start, retries what fails with a backoff and clears the journal once everything is back', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    docker.services = [service('web', { replicas: 0 })];
    docker.failingScales.set('web', 2);
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [stops[0]], [web]);
    await restartJournaledContainers(docker, journal, logger, noDelays);
    assert.deepEqual(docker.calls, ['start a', 'scale web 3', 'scale web 3', 'scale web 3']);
    assert.equal(docker.services[0].replicas, 3);
    assert.deepEqual(await journal.pending(), []);
  });

  it('at start, what still fails after every attempt stays in the journal for the next start and is logged as an error', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    docker.services = [service('web', { replicas: 0 })];
    docker.failingScales.set('web', Infinity);
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [stops[0]], [web]);
    const { logger: capturing, lines } = capturingLogger();
    await restartJournaledContainers(docker, journal, capturing, noDelays);
    assert.deepEqual(docker.calls, ['start a', ...Array<string>(5).fill('scale web 3')]);
    const [entry] = await journal.pending();
    assert.deepEqual({ containers: entry.containers, services: entry.services }, { containers: [], services: [web] });
    assert.ok(lines.some((line) => / error .*service web \(back to 3\)/.test(line)), lines.join(''));

    docker.failingScales.delete('web');
    await restartJournaledContainers(docker, journal, logger, noDelays);
    assert.equal(docker.services[0].replicas, 3);
    assert.deepEqual(await journal.pending(), []);
  });

  it('at start, a container or service removed since the stop is dropped from the journal at once, with a warning', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    const journal = new StopJournal(await makeTempDir('journal'));
    const taskOfRemovedService = { id: 'cache.1', name: 'cache.1', restart: true, serviceId: 'cache' };
    await journal.record('v', [{ id: 'gone', name: 'gone', restart: true }, taskOfRemovedService, stops[0]], [web]);
    const { logger: capturing, lines } = capturingLogger();
    await restartJournaledContainers(docker, journal, capturing, noDelays);
    assert.deepEqual(docker.calls.sort(), ['force-update cache', 'scale web 3', 'start a', 'start gone']);
    assert.ok(docker.containers[0].running);
    assert.deepEqual(await journal.pending(), []);
    for (const what of ['container gone', 'the service of container cache.1', 'service web \\(back to 3\\)']) {
      assert.ok(lines.some((line) => new RegExp(` warn .*${what} no longer exists`).test(line)), `${what}: ${lines.join('')}`);
    }
    assert.ok(!lines.some((line) => / error /.test(line)), lines.join(''));
  });

  it('a container removed while its run had it stopped does not fail the run', async () => {
    const docker = new FakeDocker([container('a'), container('b')]);
    const journal = new StopJournal(await makeTempDir('journal'));
    const resume = await stopContainers({ docker, journal, volume: 'v', stops, maxTimeoutSeconds: 5, logger });
    docker.containers.splice(0, 1);
    await resume();
    assert.deepEqual(await journal.pending(), []);
  });

  it('a later run on the same volume does not drop what an earlier one could not bring back', async () => {
    const docker = new FakeDocker([container('a')]);
    docker.services = [service('web', { replicas: 0 })];
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [], [web]);
    const resume = await stopContainers({ docker, journal, volume: 'v', stops: [stops[0]], maxTimeoutSeconds: 5, logger });
    await resume();
    const [entry] = await journal.pending();
    assert.deepEqual({ containers: entry.containers, services: entry.services }, { containers: [], services: [web] });
  });
});
