import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DockerodeApi } from '../../src/engine/dockerode-api';
import { createSilentLogger } from '../../src/shared/logger';
import { LABELS } from '../../src/engine/plan-quiesce';
import { runLabelCommands } from '../../src/engine/stop-containers';
import type { Volume } from '../../src/volumes/volume-registry';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';
import { setUpRuns } from './runs-fixtures';

const logger = createSilentLogger();

describe('HOOK_TIMEOUT', () => {
  it('fails a hung archive-pre command in time, naming the command and its container', async () => {
    const docker = new FakeDocker([container('db')]);
    docker.hangingCommands.add('sleep 100000');
    const started = Date.now();
    await assert.rejects(
      runLabelCommands({
        docker,
        commands: [{ containerId: 'db', containerName: 'db', command: 'sleep 100000' }],
        phase: 'archive-pre',
        logger,
        timeoutSeconds: 0.1,
      }),
      /^Error: archive-pre command in container db did not finish in 0.1 s \(HOOK_TIMEOUT\)/,
    );
    assert.ok(Date.now() - started < 2_000);
  });

  it('a hung archive-pre fails the run before anything is stopped and frees the slot for the next volume', async () => {
    const { runs, docker, volume, volumesDir, scheduler } = await setUpRuns({}, { hookTimeoutSeconds: 0.2 });
    docker.containers[0].labels[LABELS.archivePre] = 'sleep 100000';
    docker.hangingCommands.add('sleep 100000');
    docker.containers.push(container('other-app', { volumes: ['w'] }));
    await mkdir(join(volumesDir, 'w', 'data'), { recursive: true });
    await writeFile(join(volumesDir, 'w', 'data', 'file.txt'), 'w');
    const other: Volume = { ...volume, record: { ...volume.record, name: 'w' } };
    await runs.volumes.volumeAdded(volume);
    await runs.volumes.volumeAdded(other);

    // Both at once with MAX_CONCURRENT_BACKUPS=1: w waits for v's slot, which the hung hook must give up.
    const [hung, next] = await Promise.all([runs.backups.run('v', 'manual'), runs.backups.run('w', 'manual')]);
    assert.equal(hung.result, 'failed');
    assert.match(hung.error ?? '', /archive-pre command in container app did not finish in 0.2 s \(HOOK_TIMEOUT\)/);
    assert.ok(!docker.calls.includes('stop app'), 'nothing was stopped for v');
    assert.equal(next.result, 'success', next.error);
    assert.match(String((runs.status.of(volume).lastRun as { error: string }).error), /HOOK_TIMEOUT/);
    scheduler.stopAll();
  });
});

describe('DOCKER_API_TIMEOUT', () => {
  /** A Docker socket that accepts connections and never answers: an engine stuck on a lock. */
  async function silentEngine(): Promise<{ path: string; close(): Promise<void> }> {
    const dir = await makeTempDir('silent-engine');
    const path = join(dir, 'docker.sock');
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
      path,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('fails a request the engine does not answer, naming it; a stop gets its stop timeout on top', async () => {
    const engine = await silentEngine();
    try {
      const api = new DockerodeApi(engine.path, { requestTimeoutMs: 100 });
      await assert.rejects(
        api.runningContainers(),
        (error: Error) => error.message === 'the Docker API gave no answer in 0.1 s while listing the running containers (DOCKER_API_TIMEOUT)',
      );
      const started = Date.now();
      await assert.rejects(api.stopContainer('db', 1), /no answer in 1.1 s while stopping container db/);
      assert.ok(Date.now() - started >= 1_000, 'the container had its stop timeout');
      await assert.rejects(api.startContainer('db'), /no answer in 0.1 s while starting container db/);
    } finally {
      await engine.close();
    }
  });
});
