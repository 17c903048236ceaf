import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetention } from '../../src/volumes/retention-option';

const HOUR = 3_600_000;

describe('parseRetention', () => {
  it('reads "all" and nothing as keep-all', () => {
    assert.deepEqual(parseRetention(''), { kind: 'keep-all' });
    assert.deepEqual(parseRetention('  '), { kind: 'keep-all' });
    assert.deepEqual(parseRetention('all'), { kind: 'keep-all' });
  });

  it('reads a whole number as keep-last', () => {
    assert.deepEqual(parseRetention('7'), { kind: 'keep-last', count: 7 });
    assert.deepEqual(parseRetention(' 1 '), { kind: 'keep-last', count: 1 });
  });

  it('reads ages in minutes, hours, days and weeks', () => {
    assert.deepEqual(parseRetention('90m'), { kind: 'max-age', maxAgeMs: 90 * 60_000 });
    assert.deepEqual(parseRetention('12h'), { kind: 'max-age', maxAgeMs: 12 * HOUR });
    assert.deepEqual(parseRetention('30d'), { kind: 'max-age', maxAgeMs: 30 * 24 * HOUR });
    assert.deepEqual(parseRetention('2w'), { kind: 'max-age', maxAgeMs: 14 * 24 * HOUR });
  });

  it('reads calendar buckets, any subset', () => {
    assert.deepEqual(parseRetention('hourly=24,daily=7,weekly=4,monthly=12,yearly=2'), {
      kind: 'calendar',
      buckets: { hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 2 },
    });
    assert.deepEqual(parseRetention('monthly=6, daily=3'), { kind: 'calendar', buckets: { monthly: 6, daily: 3 } });
  });

  it('rejects everything else, saying what is wrong and what is accepted', () => {
    const cases: [string, RegExp][] = [
      ['0', /"0": counts are whole numbers from 1/],
      ['-1', /"-1" is not a retention/],
      ['7.5', /"7.5" is not a retention/],
      ['30x', /"30x" is not a retention/],
      ['0d', /the age "0d" must be more than zero/],
      ['99999999999999999999d', /must be more than zero and finite/],
      ['forever', /"forever" is not a retention/],
      ['daily=0', /"daily=0": counts are whole numbers from 1/],
      ['daily=', /"daily=": counts are whole numbers from 1/],
      ['daily=7x', /"daily=7x": counts are whole numbers from 1/],
      ['dayly=7', /"dayly" is not one of hourly, daily, weekly, monthly, yearly/],
      ['Daily=7', /"Daily=7" is not of the form bucket=count/],
      ['daily=7,daily=3', /"daily" is given twice/],
      ['daily=7,', /"" is not of the form bucket=count/],
      ['daily=7,30d', /"30d" is not of the form bucket=count/],
    ];
    for (const [text, reason] of cases) {
      assert.throws(() => parseRetention(text), reason, text);
      assert.throws(() => parseRetention(text), /accepted: "all" or nothing .*e\.g\. 30d, 12h, 90m, 2w.*hourly=24,daily=7/, text);
    }
  });
});
