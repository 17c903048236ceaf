import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { describeRunning, RunProgress } from '../../src/runs/run-progress';
import type { ProgressReport } from '../../src/vocabulary/run-record';

describe('RunProgress', () => {
  it('shows what runs, adds an ETA at the rate of the phase, passes the same figures on, and forgets at the end', async () => {
    const progress = new RunProgress();
    const forwarded: ProgressReport[] = [];
    const tracking = progress.track('db', 'backup', (report) => forwarded.push(report));
    assert.equal(progress.of('db')?.phase, 'starting');
    tracking.report({ phase: 'live-pass' });
    assert.deepEqual(progress.of('db'), { activity: 'backup', startedAt: progress.of('db')?.startedAt, phase: 'live-pass' });
    tracking.report({ phase: 'archive', archive: 'db-x.tar.gz', bytes: 0, totalBytes: 1000 });
    await delay(200);
    tracking.report({ phase: 'archive', archive: 'db-x.tar.gz', bytes: 250, totalBytes: 1000 });
    const running = progress.of('db');
    // 250 bytes in 200 ms or a little more: 750 more take 600 ms or a little more, rounded up.
    const eta = running?.etaSeconds ?? -1;
    assert.ok(eta >= 1 && eta <= 3, `ETA ${eta}`);
    assert.equal(progress.ratio('db'), 0.25);
    assert.deepEqual(forwarded.at(-1), { phase: 'archive', archive: 'db-x.tar.gz', bytes: 250, totalBytes: 1000, etaSeconds: eta });
    assert.equal(describeRunning(running!), `backup: archive 25% ETA ${eta} s`);
    tracking.end();
    assert.equal(progress.of('db'), undefined);
    assert.equal(progress.ratio('db'), undefined);
  });

  it('has no ratio or ETA without a total, and a second operation is not ended by the first one', () => {
    const progress = new RunProgress();
    const first = progress.track('db', 'backup');
    first.report({ phase: 'archive', bytes: 500 });
    assert.equal(progress.ratio('db'), undefined);
    assert.equal(progress.of('db')?.etaSeconds, undefined);
    const second = progress.track('db', 'drill');
    first.end();
    assert.equal(progress.of('db')?.activity, 'drill');
    second.end();
  });
});
