import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerTask } from '../../src/shared/worker-task';
import type { ProbeMode } from '../helpers/probe-task-worker';

const PROBE = join(__dirname, '..', 'helpers', 'probe-task-worker.js');

function probe(mode: ProbeMode): WorkerTask<number> {
  return new WorkerTask<number>(PROBE, { data: mode, name: 'the probe worker' });
}

describe('WorkerTask', () => {
  it('sends batches by transfer, gets each buffer back, and resolves with the result', async () => {
    const task = probe('echo');
    const returned: ArrayBuffer[] = [];
    task.receive({ returned: (buffer) => returned.push(buffer) });
    const buffer = new ArrayBuffer(64);
    task.send(buffer, 10);
    assert.equal(buffer.byteLength, 0, 'transferred, not copied');
    task.send(new ArrayBuffer(64), 20);
    task.end();
    assert.equal(await task.outcome, 30);
    await task.terminate();
    assert.deepEqual(returned.map((back) => back.byteLength), [64, 64]);
  });

  it("rejects with the worker's error, its message and own plain fields", async () => {
    const task = probe('fail');
    await assert.rejects(task.outcome, (error: Error & Record<string, unknown>) => {
      assert.equal(error.message, 'no such file');
      assert.equal(error.code, 'ENOENT');
      assert.equal(error.path, '/missing');
      assert.equal(error.ignored, undefined, 'an object field does not travel');
      return true;
    });
    await task.exited;
  });

  it('rejects when the worker exits without a result', async () => {
    const task = probe('exit');
    await assert.rejects(task.outcome, /^Error: the probe worker exited with code 3 without a result$/);
  });

  it('wakes a worker waiting for its buffers when stopped, and rejects with the reason', async () => {
    const task = probe('produce');
    let batches = 0;
    const stopped = new Promise<void>((resolve) => {
      task.receive({
        batch: () => {
          // Both buffers are away and none comes back: the worker sleeps until the stop wakes it.
          if (++batches === 2) setTimeout(() => resolve(task.stop(new Error('cancelled'))), 50);
        },
      });
    });
    await stopped;
    await assert.rejects(task.outcome, /cancelled/);
    await task.exited;
    assert.equal(batches, 2);
  });
});
