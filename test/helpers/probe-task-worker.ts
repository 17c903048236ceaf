import { serveWorkerTask } from '../../src/shared/worker-task';

/** What the probe worker of worker-task.test.ts does, by mode. */
export type ProbeMode = 'echo' | 'fail' | 'exit' | 'produce';

serveWorkerTask<ProbeMode, number>((mode, port) => {
  if (mode === 'fail') throw Object.assign(new Error('no such file'), { code: 'ENOENT', path: '/missing', ignored: { nested: true } });
  if (mode === 'exit') process.exit(3);
  if (mode === 'produce') {
    // Sends its two buffers, then waits for them back forever: only a stop ends it.
    for (let sent = 0; ; sent++) {
      const buffer = sent < 2 ? new ArrayBuffer(16) : port.waitForReturn();
      port.send(buffer, 16);
    }
  }
  // echo: sums the batches' lengths and gives each back; the total is the result.
  return new Promise<number>((resolve) => {
    let total = 0;
    port.receive({
      batch: (buffer, length) => {
        total += length;
        port.giveBack(buffer);
      },
      end: () => resolve(total),
    });
  });
});
