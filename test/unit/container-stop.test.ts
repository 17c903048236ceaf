import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { stopContainers } from '../../src/engine/stop-containers';
import { StopJournal } from '../../src/engine/stop-journal';
import {
  describeContainerStop,
  effectiveStopTimeout,
  killedContainersWarning,
  wasKilled,
  type ContainerStop,
} from '../../src/vocabulary/container-stop';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const logger = createSilentLogger();

describe('a container stop timeout', () => {
  it("is the container's own, or Docker's 10 s, capped by STOP_TIMEOUT only when that is set", () => {
    assert.equal(effectiveStopTimeout(undefined, undefined), 10);
    assert.equal(effectiveStopTimeout(2, undefined), 2);
    assert.equal(effectiveStopTimeout(120, undefined), 120);
    assert.equal(effectiveStopTimeout(120, 30), 30);
    assert.equal(effectiveStopTimeout(2, 30), 2);
    assert.equal(effectiveStopTimeout(undefined, 5), 5);
    assert.equal(effectiveStopTimeout(0, undefined), 0);
  });

  it('counts a stop that took its whole timeout as a kill', () => {
    assert.equal(wasKilled(1_999, 2), false);
    assert.equal(wasKilled(2_004, 2), true);
    assert.equal(wasKilled(3, 0), true);
  });

  it('says in words how each container went down', () => {
    const clean: ContainerStop = { container: 'db', signal: 'SIGTERM', timeoutSeconds: 10, ms: 310, killed: false };
    const killed: ContainerStop = { container: 'app', signal: 'SIGTERM', timeoutSeconds: 2, ms: 2_012, killed: true };
    assert.equal(describeContainerStop(clean), 'db stopped on SIGTERM in 310 ms');
    assert.equal(describeContainerStop(killed), 'app ignored SIGTERM and was killed after 2 s');
    assert.equal(killedContainersWarning([clean]), undefined);
    assert.equal(killedContainersWarning([clean, killed]), 'app ignored SIGTERM and was killed after 2 s');
  });
});

describe('stopContainers with each container its own stop settings', () => {
  it('gives each its own timeout, caps it by STOP_TIMEOUT, and reports signal, time and kill', async () => {
    const docker = new FakeDocker([container('app'), container('db'), container('web')]);
    docker.ownStopSettings.set('app', { timeoutSeconds: 1 });
    docker.ownStopSettings.set('db', { signal: 'SIGINT', timeoutSeconds: 600 });
    docker.ignoreStopSignal.add('app');
    const journal = new StopJournal(await makeTempDir('journal'));
    const reported: ContainerStop[] = [];
    const stops = ['app', 'db', 'web'].map((id) => ({ id, name: id, restart: true }));
    const resume = await stopContainers({ docker, journal, volume: 'v', stops, maxTimeoutSeconds: 60, onStopped: (stop) => reported.push(stop), logger });
    assert.deepEqual(Object.fromEntries(docker.stopTimeoutsGiven), { app: 1, db: 60, web: 10 });
    const byName = new Map(reported.map((stop) => [stop.container, stop]));
    assert.deepEqual([...byName.keys()].sort(), ['app', 'db', 'web']);
    assert.equal(byName.get('app')?.killed, true);
    assert.ok((byName.get('app')?.ms ?? 0) >= 1_000, 'the kill came after the whole timeout');
    assert.deepEqual(
      { signal: byName.get('db')?.signal, killed: byName.get('db')?.killed },
      { signal: 'SIGINT', killed: false },
    );
    assert.equal(byName.get('web')?.signal, 'SIGTERM');
    await resume();
    assert.ok(docker.containers.every((c) => c.running));
  });

  it('without STOP_TIMEOUT, a container that asks for a long stop timeout gets all of it', async () => {
    const docker = new FakeDocker([container('db')]);
    docker.ownStopSettings.set('db', { timeoutSeconds: 300 });
    const journal = new StopJournal(await makeTempDir('journal'));
    const resume = await stopContainers({ docker, journal, volume: 'v', stops: [{ id: 'db', name: 'db', restart: true }], logger });
    assert.equal(docker.stopTimeoutsGiven.get('db'), 300);
    await resume();
  });
});
