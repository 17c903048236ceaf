import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCliSettings, loadSettings } from '../../src/settings/settings';

describe('loadSettings', () => {
  it('takes an IANA time zone, and UTC when TZ is empty', () => {
    assert.equal(loadSettings({ TZ: 'Europe/Berlin' }).timezone, 'Europe/Berlin');
    assert.equal(loadSettings({ TZ: ' ' }).timezone, 'UTC');
  });

  it('takes DEFAULT_FULL_EVERY as given (checked with the option), 1 when empty', () => {
    assert.equal(loadSettings({ DEFAULT_FULL_EVERY: ' 7d ' }).defaultFullEvery, '7d');
    assert.equal(loadSettings({}).defaultFullEvery, '1');
  });

  it('takes STOP_TIMEOUT as a cap only when given, and refuses one that is not a positive whole number', () => {
    assert.equal(loadSettings({}).stopTimeoutSeconds, undefined);
    assert.equal(loadSettings({ STOP_TIMEOUT: ' ' }).stopTimeoutSeconds, undefined);
    assert.equal(loadSettings({ STOP_TIMEOUT: '45' }).stopTimeoutSeconds, 45);
    assert.throws(() => loadSettings({ STOP_TIMEOUT: '0' }), /setting STOP_TIMEOUT=0 is not a positive whole number/);
    assert.throws(() => loadSettings({ STOP_TIMEOUT: '2s' }), /setting STOP_TIMEOUT=2s is not a positive whole number/);
  });

  it('refuses a TZ that is not a time zone, naming the setting', () => {
    assert.throws(() => loadSettings({ TZ: 'Bad/Zone' }), /setting TZ=Bad\/Zone is not a time zone/);
    assert.throws(() => loadSettings({ TZ: 'CET-1CEST' }), /setting TZ=CET-1CEST is not a time zone/);
  });
});

describe('METRICS_ADDR', () => {
  it('is off when empty or unset', () => {
    assert.equal(loadSettings({}).metricsAddress, undefined);
    assert.equal(loadSettings({ METRICS_ADDR: '  ' }).metricsAddress, undefined);
  });

  it('takes HOST:PORT with an IPv4 address, a host name or a bracketed IPv6 address', () => {
    assert.deepEqual(loadSettings({ METRICS_ADDR: ' 127.0.0.1:9333 ' }).metricsAddress, { host: '127.0.0.1', port: 9333 });
    assert.deepEqual(loadSettings({ METRICS_ADDR: '0.0.0.0:1' }).metricsAddress, { host: '0.0.0.0', port: 1 });
    assert.deepEqual(loadSettings({ METRICS_ADDR: 'localhost:65535' }).metricsAddress, { host: 'localhost', port: 65_535 });
    assert.deepEqual(loadSettings({ METRICS_ADDR: '[::1]:9333' }).metricsAddress, { host: '::1', port: 9333 });
  });

  it('refuses anything else, naming the setting and what it takes', () => {
    for (const bad of ['9333', ':9333', '127.0.0.1', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', '::1:9333', 'http://127.0.0.1:9333', 'host:port', '[::1]9333']) {
      assert.throws(() => loadSettings({ METRICS_ADDR: bad }), (error: Error) => {
        assert.match(error.message, /^setting METRICS_ADDR=.* is not HOST:PORT: give e\.g\. 127\.0\.0\.1:9333/);
        assert.ok(error.message.includes(bad), error.message);
        return true;
      }, bad);
    }
  });
});

describe('loadCliSettings', () => {
  it('reads what bin/backupvol sets, with the defaults of the plugin itself', () => {
    assert.deepEqual(loadCliSettings({}), {
      plugin: 'backupvol',
      pluginEnabled: undefined,
      socket: '/run/docker/plugins/backupvol.sock',
      dataDir: '/var/lib/backupvol',
    });
    assert.deepEqual(
      loadCliSettings({ BACKUPVOL_PLUGIN: 'bv', BACKUPVOL_PLUGIN_ENABLED: 'false', BACKUPVOL_SOCKET: '/run/x.sock', BACKUPVOL_DATA_DIR: '/data/backupvol' }),
      { plugin: 'bv', pluginEnabled: false, socket: '/run/x.sock', dataDir: '/data/backupvol' },
    );
  });

  it('leaves the enabled state unknown when docker plugin inspect gave nothing', () => {
    assert.equal(loadCliSettings({ BACKUPVOL_PLUGIN_ENABLED: '' }).pluginEnabled, undefined);
    assert.equal(loadCliSettings({ BACKUPVOL_PLUGIN_ENABLED: 'true' }).pluginEnabled, true);
  });
});
