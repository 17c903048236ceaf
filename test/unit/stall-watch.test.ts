import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { StallGuardStream, StallWatch, withinStall } from '../../src/shared/stall-watch';

/** A sink that takes `takes` chunks and then never calls back again: a server that stopped reading. */
function stallingSink(takes: number): Writable & { received: number } {
  let received = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      received += 1;
      if (received <= takes) callback();
    },
  }) as Writable & { received: number };
  Object.defineProperty(sink, 'received', { get: () => received });
  return sink;
}

describe('StallWatch', () => {
  it('fails work that falls silent, saying what it waited for', async () => {
    const started = Date.now();
    await assert.rejects(
      withinStall(50, () => 'no answer while listing v', () => new Promise(() => undefined)),
      (error: Error) => error.message === 'no answer while listing v',
    );
    assert.ok(Date.now() - started < 1_000);
  });

  it('lets work that keeps reporting progress take longer than the timeout', async () => {
    const result = await withinStall(80, () => 'stalled', async (watch) => {
      for (let step = 0; step < 6; step += 1) {
        await delay(30);
        watch.progress();
      }
      return 'done';
    });
    assert.equal(result, 'done');
  });

  it('does not fire once stopped, whatever progress comes later', async () => {
    const watch = new StallWatch(20, () => 'stalled');
    watch.stop();
    watch.progress();
    const outcome = await Promise.race([watch.stalled.then(() => 'fired', () => 'fired'), delay(80).then(() => 'quiet')]);
    assert.equal(outcome, 'quiet');
  });
});

describe('StallGuardStream', () => {
  it('fails and destroys a destination that stops taking data', async () => {
    const inner = stallingSink(2);
    const guard = new StallGuardStream(inner, 60, () => 'no progress for 0.06 s while uploading v/a (TRANSFER_STALL_TIMEOUT)');
    const source = new PassThrough();
    const piped = pipeline(source, guard);
    for (let chunk = 0; chunk < 10; chunk += 1) source.write(Buffer.alloc(1024));
    source.end();
    await assert.rejects(piped, /no progress for 0.06 s while uploading v\/a \(TRANSFER_STALL_TIMEOUT\)/);
    assert.ok(inner.destroyed, 'the hung destination is closed');
  });

  it('fails an end that the destination never finishes', async () => {
    const inner = new Writable({ write: (_chunk, _encoding, callback) => callback(), final: () => undefined });
    const guard = new StallGuardStream(inner, 50, () => 'stalled at the end');
    await assert.rejects(pipeline(async function* () { yield Buffer.from('x'); }, guard), /stalled at the end/);
  });

  it('never fails while it is the producer that is slow', async () => {
    const chunks: Buffer[] = [];
    const inner = new Writable({
      highWaterMark: 1,
      write: (chunk: Buffer, _encoding, callback) => {
        chunks.push(chunk);
        setTimeout(callback, 5);
      },
    });
    const guard = new StallGuardStream(inner, 40, () => 'stalled');
    await pipeline(async function* () {
      for (let chunk = 0; chunk < 4; chunk += 1) {
        await delay(70); // longer than the stall timeout between chunks: waiting for data is not a stall
        yield Buffer.from(`chunk ${chunk}`);
      }
    }, guard);
    assert.equal(Buffer.concat(chunks).toString(), 'chunk 0chunk 1chunk 2chunk 3');
    assert.ok(inner.writableFinished);
  });

  it('counts progress the library reports (a part confirmed) while the stream waits for room', async () => {
    let release: () => void = () => undefined;
    const inner = new Writable({
      highWaterMark: 1,
      write: (_chunk, _encoding, callback) => {
        release = callback;
      },
    });
    const guard = new StallGuardStream(inner, 60, () => 'stalled');
    const written = new Promise<void>((resolve, reject) => guard.write(Buffer.alloc(10), (error) => (error ? reject(error) : resolve())));
    guard.write(Buffer.alloc(10));
    for (let beat = 0; beat < 4; beat += 1) {
      await delay(30);
      guard.progress();
    }
    release();
    await written;
    assert.ok(!guard.destroyed);
    guard.destroy();
  });
});
