import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadArchiveKeys, missingKeySetting } from '../../src/settings/archive-keys';
import { parseVolumeOptions, type OptionDefaults } from '../../src/volumes/volume-options';

const defaults: OptionDefaults = { schedule: 'none', retention: '', encryption: 'none' };
const parse = (raw: Record<string, string>, given: OptionDefaults = defaults) => parseVolumeOptions(raw, given);

function rejects(raw: Record<string, string>, pattern: RegExp, given: OptionDefaults = defaults): void {
  assert.throws(() => parse(raw, given), (error: Error) => {
    assert.match(error.message, /^(unknown option "|invalid [a-z-]+=|backup-encryption=)/, `a refusal that names the option, got ${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('parseVolumeOptions', () => {
  it('fills every default when no option is given', () => {
    assert.deepEqual(parse({}), {
      schedule: null,
      retention: { kind: 'keep-all' },
      targets: ['local'],
      compression: 'gzip',
      encryption: 'none',
      stop: 'attached',
      stopLabel: 'true',
      snapshot: 'sync',
      exclude: [],
      jitterMs: 0,
      fullEvery: { count: 1 },
      restoreFrom: null,
      verify: false,
      drill: null,
    });
  });

  it('takes backup-drill as a schedule like backup-schedule, and names it when it is wrong', () => {
    assert.equal(parse({ 'backup-drill': '0 4 * * 0' }).drill, '0 4 * * 0');
    assert.equal(parse({ 'backup-drill': '@weekly' }).drill, '@weekly');
    assert.equal(parse({ 'backup-drill': 'none' }).drill, null);
    rejects({ 'backup-drill': 'sometimes' }, /invalid backup-drill="sometimes".*5- or 6-field cron/);
  });

  it('names the unknown key and lists the accepted ones', () => {
    rejects({ bogus: '1' }, /unknown option "bogus": accepted options are backup-schedule, .*restore-from/);
  });

  describe('backup-schedule', () => {
    for (const good of ['0 3 * * *', '*/5 * * * * *', '@hourly', '@daily', '@weekly', '@monthly']) {
      it(`accepts ${good}`, () => assert.equal(parse({ 'backup-schedule': good }).schedule, good));
    }
    it('treats none as no schedule', () => assert.equal(parse({ 'backup-schedule': 'none' }).schedule, null));
    for (const bad of ['61 * * * *', '0 3 * *', 'tomorrow', '@reboot', '* * * * * * *']) {
      it(`rejects ${bad}`, () => rejects({ 'backup-schedule': bad }, /invalid backup-schedule=.*5- or 6-field cron/));
    }
    it('takes DEFAULT_SCHEDULE and blames the setting when it is bad', () => {
      assert.equal(parse({}, { ...defaults, schedule: '@daily' }).schedule, '@daily');
      rejects({}, /from plugin setting DEFAULT_SCHEDULE/, { ...defaults, schedule: 'nope' });
    });
  });

  describe('backup-retention', () => {
    it('parses age, count and calendar forms', () => {
      assert.deepEqual(parse({ 'backup-retention': '30d' }).retention, { kind: 'max-age', maxAgeMs: 30 * 86_400_000 });
      assert.deepEqual(parse({ 'backup-retention': '7' }).retention, { kind: 'keep-last', count: 7 });
      assert.deepEqual(parse({ 'backup-retention': 'daily=7,weekly=4' }).retention, {
        kind: 'calendar',
        buckets: { daily: 7, weekly: 4 },
      });
    });
    for (const bad of ['30x', '-1', 'daily=0', 'fortnightly=2', 'daily=1,daily=2']) {
      it(`rejects ${bad}`, () => rejects({ 'backup-retention': bad }, /invalid backup-retention=/));
    }
  });

  describe('enumerated options', () => {
    const cases: [string, string[], string][] = [
      ['backup-compression', ['gzip', 'zstd', 'none'], 'lz4'],
      ['backup-stop', ['attached', 'labelled', 'none'], 'all'],
      ['backup-snapshot', ['sync', 'copy', 'direct'], 'lvm'],
      ['backup-encryption', ['none'], 'rot13'],
    ];
    for (const [key, good, bad] of cases) {
      it(`${key} accepts ${good.join(', ')} and rejects ${bad}`, () => {
        for (const value of good) parse({ [key]: value });
        rejects({ [key]: bad }, new RegExp(`invalid ${key}="${bad}": accepted values are`));
      });
    }
  });

  describe('backup-target', () => {
    it('accepts local', () => assert.deepEqual(parse({ 'backup-target': 'local' }).targets, ['local']));
    it('rejects unknown and repeated targets', () => {
      rejects({ 'backup-target': 'ftp' }, /invalid backup-target="ftp": a comma list of local, s3, sftp, webdav/);
      rejects({ 'backup-target': 'local,local' }, /each at most once/);
    });
    it('accepts a comma list of targets, in the order given', () => {
      assert.deepEqual(parse({ 'backup-target': 'local, s3,webdav' }).targets, ['local', 's3', 'webdav']);
    });
  });

  describe('backup-encryption needs its key settings', () => {
    const withKeys = (env: Record<string, string>): OptionDefaults => {
      const keys = loadArchiveKeys(env);
      return { ...defaults, missingKeySetting: (encryption, verify) => missingKeySetting(encryption, keys, verify) };
    };
    const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

    it('names the missing setting, also when the encryption comes from DEFAULT_ENCRYPTION', () => {
      rejects({ 'backup-encryption': 'gpg' }, /backup-encryption=gpg: .*GPG_PASSPHRASE or GPG_PASSPHRASE_FILE/, withKeys({}));
      rejects({}, /backup-encryption=age \(from plugin setting DEFAULT_ENCRYPTION\): .*AGE_RECIPIENTS/, { ...withKeys({}), encryption: 'age' });
      rejects({ 'backup-encryption': 'age' }, /AGE_RECIPIENTS holds "age1nope!"/, withKeys({ AGE_RECIPIENTS: 'age1nope!' }));
    });

    it('accepts gpg and age once the keys are set; age recipients with backup-verify need AGE_IDENTITY', () => {
      assert.equal(parse({ 'backup-encryption': 'gpg' }, withKeys({ GPG_PASSPHRASE: 'x' })).encryption, 'gpg');
      assert.equal(parse({ 'backup-encryption': 'age' }, withKeys({ AGE_PASSPHRASE: 'x' })).encryption, 'age');
      assert.equal(parse({ 'backup-encryption': 'age' }, withKeys({ AGE_RECIPIENTS: RECIPIENT })).encryption, 'age');
      rejects({ 'backup-encryption': 'age', 'backup-verify': 'true' }, /AGE_IDENTITY or AGE_IDENTITY_FILE/, withKeys({ AGE_RECIPIENTS: RECIPIENT }));
    });

    it('says which _FILE cannot be read, without failing the plugin', () => {
      rejects({ 'backup-encryption': 'gpg' }, /GPG_PASSPHRASE_FILE cannot be read \(ENOENT\)/, withKeys({ GPG_PASSPHRASE_FILE: '/nonexistent/pass' }));
    });
  });

  it('backup-stop-label takes a plain value and rejects empty or spaced ones', () => {
    assert.equal(parse({ 'backup-stop-label': 'db' }).stopLabel, 'db');
    rejects({ 'backup-stop-label': '' }, /invalid backup-stop-label/);
    rejects({ 'backup-stop-label': 'a b' }, /invalid backup-stop-label/);
  });

  it('backup-exclude takes relative globs and refuses ones that leave the volume', () => {
    assert.deepEqual(parse({ 'backup-exclude': 'cache/**, *.tmp' }).exclude, ['cache/**', '*.tmp']);
    rejects({ 'backup-exclude': '/etc' }, /invalid backup-exclude=.*relative to the volume root/);
    rejects({ 'backup-exclude': 'a/../../b' }, /invalid backup-exclude/);
    rejects({ 'backup-exclude': 'a,,b' }, /invalid backup-exclude/);
  });

  it('backup-jitter takes durations', () => {
    assert.equal(parse({ 'backup-jitter': '90s' }).jitterMs, 90_000);
    assert.equal(parse({ 'backup-jitter': '5m' }).jitterMs, 300_000);
    rejects({ 'backup-jitter': '5 minutes' }, /invalid backup-jitter=.*whole number followed by s, m, h, d or w/);
  });

  describe('backup-full-every', () => {
    it('takes a count of archives per chain or the age of its full archive', () => {
      assert.deepEqual(parse({ 'backup-full-every': '1' }).fullEvery, { count: 1 });
      assert.deepEqual(parse({ 'backup-full-every': ' 7 ' }).fullEvery, { count: 7 });
      assert.deepEqual(parse({ 'backup-full-every': '7d' }).fullEvery, { maxAgeMs: 7 * 86_400_000 });
      assert.deepEqual(parse({ 'backup-full-every': '12h' }).fullEvery, { maxAgeMs: 12 * 3_600_000 });
    });
    for (const bad of ['0', '0d', '-3', '2.5', 'weekly', '7 days', '', '99999999999999999999']) {
      it(`rejects ${JSON.stringify(bad)}, saying what it takes`, () =>
        rejects({ 'backup-full-every': bad }, /invalid backup-full-every=.*whole number of archives per chain from 1 .*whole number followed by s, m, h, d or w/));
    }
    it('takes DEFAULT_FULL_EVERY and blames the setting when it is bad', () => {
      assert.deepEqual(parse({}, { ...defaults, fullEvery: '30d' }).fullEvery, { maxAgeMs: 30 * 86_400_000 });
      assert.deepEqual(parse({ 'backup-full-every': '3' }, { ...defaults, fullEvery: '30d' }).fullEvery, { count: 3 });
      rejects({}, /invalid backup-full-every="0" \(from plugin setting DEFAULT_FULL_EVERY\)/, { ...defaults, fullEvery: '0' });
    });
  });

  it('restore-from checks its form', () => {
    rejects({ 'restore-from': '../etc/passwd' }, /invalid restore-from=.*VOLUME@latest/);
    assert.equal(parse({ 'restore-from': 'db@latest' }).restoreFrom, 'db@latest');
    assert.equal(parse({ 'restore-from': 'db-20260101T030000Z.tar.zst' }).restoreFrom, 'db-20260101T030000Z.tar.zst');
    rejects({ 'restore-from': 'latest' }, /invalid restore-from/);
  });

  it('backup-verify is true or false', () => {
    assert.equal(parse({ 'backup-verify': 'true' }).verify, true);
    assert.equal(parse({}).verify, false);
    rejects({ 'backup-verify': 'yes' }, /invalid backup-verify="yes": accepted values are true, false/);
  });
});
