import assert from 'node:assert/strict';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { startWriteBehind, type SyncHandle } from '../../src/shared/write-behind';
import { makeTempDir } from '../helpers/temp-dir';

const MiB = 1024 * 1024;

/** Opens the real file and records what is done with the descriptor, in order. */
function recordingOpener(calls: string[], failDatasync?: Error) {
  return async (path: string): Promise<SyncHandle> => {
    const file = await open(path, 'r');
    calls.push('open');
    return {
      datasync: async () => {
        calls.push('datasync');
        if (failDatasync) throw failDatasync;
        await file.datasync();
      },
      sync: async () => {
        calls.push('sync');
        await file.sync();
      },
      close: async () => {
        calls.push('close');
        await file.close();
      },
    };
  };
}

async function writeStretches(stream: WriteStream, stretches: number, bytes: number): Promise<void> {
  for (let index = 0; index < stretches; index++) {
    await new Promise<void>((resolve, reject) => stream.write(Buffer.alloc(bytes, index), (error) => (error ? reject(error) : resolve())));
    await sleep(30);
  }
  await new Promise<void>((resolve) => stream.end(resolve));
}

/** A file being written, with write-behind started on it every MiB, and the record of its descriptor. */
async function started(failDatasync?: Error) {
  const path = join(await makeTempDir('write-behind'), 'archive');
  const stream = createWriteStream(path);
  const calls: string[] = [];
  const behind = startWriteBehind(stream, path, { everyBytes: MiB, pollMs: 5, openFile: recordingOpener(calls, failDatasync) });
  return { path, stream, calls, behind };
}

describe('startWriteBehind', () => {
  it('writes the file back while it grows, then fsyncs it once and closes its descriptor', async () => {
    const { path, stream, calls, behind } = await started();
    await writeStretches(stream, 4, MiB);
    const beforeSync = calls.filter((call) => call === 'datasync').length;
    assert.ok(beforeSync >= 2, `writebacks while writing: ${calls.join(' ')}`);
    await behind.sync();
    assert.deepEqual(calls.slice(-2), ['sync', 'close']);
    assert.equal(calls.filter((call) => call === 'open').length, 1);
    const content = await readFile(path);
    assert.equal(content.length, 4 * MiB);
    assert.equal(content[3 * MiB], 3);
  });

  it('fsyncs a file smaller than one stretch without any writeback', async () => {
    const { stream, calls, behind } = await started();
    await writeStretches(stream, 2, 1000);
    await behind.sync();
    assert.deepEqual(calls, ['open', 'sync', 'close']);
  });

  it('fails the final sync with a writeback that failed, so the archive is not taken as durable', async () => {
    const failure = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const { stream, calls, behind } = await started(failure);
    await writeStretches(stream, 3, MiB);
    await assert.rejects(behind.sync(), failure);
    assert.equal(calls.at(-1), 'close');
    assert.ok(!calls.includes('sync'));
  });

  it('stops without syncing, and starts no writeback after the stop', async () => {
    const { stream, calls, behind } = await started();
    await writeStretches(stream, 2, MiB);
    await behind.stop();
    const stopped = calls.length;
    assert.equal(calls.at(-1), 'close');
    assert.ok(!calls.includes('sync'));
    await sleep(50);
    assert.equal(calls.length, stopped);
  });
});
