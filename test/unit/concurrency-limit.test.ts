import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from '../../src/shared/concurrency-limit';

describe('ConcurrencyLimit', () => {
  it('never runs more than the limit at once, even when work is queued while a slot is handed over', async () => {
    const limit = new ConcurrencyLimit(2);
    let active = 0;
    let peak = 0;
    const work = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
    };
    const first = Array.from({ length: 5 }, () => limit.run(work));
    await first[0];
    await Promise.all([...first, ...Array.from({ length: 5 }, () => limit.run(work))]);
    assert.equal(peak, 2);
  });

  it('frees the slot when work fails', async () => {
    const limit = new ConcurrencyLimit(1);
    await assert.rejects(limit.run(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await limit.run(async () => 'next'), 'next');
  });
});
