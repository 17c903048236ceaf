import assert from 'node:assert/strict';
import { request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { createProtocolApp } from '../../src/plugin/protocol-routes';
import { listenOnUnixSocket } from '../../src/plugin/unix-socket-server';
import type { VolumeDriver, VolumeInfo } from '../../src/volumes/volume-driver';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/** An in-memory driver that records what it was asked. */
class CountingDriver implements VolumeDriver {
  readonly calls: string[] = [];
  readonly volumes = new Map<string, Record<string, string>>();

  async create(name: string, options: Record<string, string>): Promise<void> {
    this.calls.push(`create ${name} ${JSON.stringify(options)}`);
    if (options.bad) throw new Error('invalid bad="1"');
    this.volumes.set(name, options);
  }
  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    this.volumes.delete(name);
  }
  async mount(name: string, id: string): Promise<string> {
    this.calls.push(`mount ${name} ${id}`);
    return `/mnt/volumes/${name}`;
  }
  async unmount(name: string, id: string): Promise<void> {
    this.calls.push(`unmount ${name} ${id}`);
  }
  async path(name: string): Promise<string> {
    return `/mnt/volumes/${name}`;
  }
  async get(name: string): Promise<VolumeInfo> {
    if (!this.volumes.has(name)) throw new Error(`no such volume: ${name}`);
    return { Name: name, Mountpoint: `/mnt/volumes/${name}`, CreatedAt: '2026-11-22T03:00:00Z', Status: { a: 1 } };
  }
  async list() {
    return [...this.volumes.keys()].map((Name) => ({ Name, Mountpoint: '', CreatedAt: '2026-11-22T03:00:00Z' }));
  }
}

/** Posts like the engine does: Accept set, no Content-Type. */
function post(socketPath: string, path: string, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { Accept: 'application/vnd.docker.plugins.v1.2+json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('protocol routes over a unix socket', () => {
  const driver = new CountingDriver();
  let server: Server;
  let socket: string;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backupvol-socket-'));
    socket = join(dir, 'plugins', 'backupvol.sock');
    server = await listenOnUnixSocket(socket, createProtocolApp(driver, createSilentLogger()));
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('activates as a volume driver with an empty body', async () => {
    assert.deepEqual((await post(socket, '/Plugin.Activate')).json, { Implements: ['VolumeDriver'] });
  });

  it('declares local scope', async () => {
    assert.deepEqual((await post(socket, '/VolumeDriver.Capabilities', '{}')).json, { Capabilities: { Scope: 'local' } });
  });

  it('routes each call to one driver method and encodes its result', async () => {
    assert.deepEqual((await post(socket, '/VolumeDriver.Create', '{"Name":"v1","Opts":{"backup-schedule":"@daily"}}')).json, {});
    assert.deepEqual((await post(socket, '/VolumeDriver.Create', '{"Name":"v2","Opts":null}')).json, {});
    assert.deepEqual((await post(socket, '/VolumeDriver.Mount', '{"Name":"v1","ID":"abc"}')).json, { Mountpoint: '/mnt/volumes/v1' });
    assert.deepEqual((await post(socket, '/VolumeDriver.Path', '{"Name":"v1"}')).json, { Mountpoint: '/mnt/volumes/v1' });
    assert.deepEqual((await post(socket, '/VolumeDriver.Unmount', '{"Name":"v1","ID":"abc"}')).json, {});
    const got = (await post(socket, '/VolumeDriver.Get', '{"Name":"v1"}')).json;
    assert.deepEqual(got.Volume.Status, { a: 1 });
    const listed = (await post(socket, '/VolumeDriver.List', '{}')).json;
    assert.deepEqual(listed.Volumes.map((v: { Name: string }) => v.Name), ['v1', 'v2']);
    assert.deepEqual((await post(socket, '/VolumeDriver.Remove', '{"Name":"v2"}')).json, {});
    assert.deepEqual(driver.calls, [
      'create v1 {"backup-schedule":"@daily"}',
      'create v2 {}',
      'mount v1 abc',
      'unmount v1 abc',
      'remove v2',
    ]);
  });

  it('answers driver errors as {Err}', async () => {
    const created = await post(socket, '/VolumeDriver.Create', '{"Name":"v3","Opts":{"bad":"1"}}');
    assert.equal(created.status, 500);
    assert.deepEqual(created.json, { Err: 'invalid bad="1"' });
    assert.deepEqual((await post(socket, '/VolumeDriver.Get', '{"Name":"nope"}')).json, { Err: 'no such volume: nope' });
  });

  it('rejects malformed requests without calling the driver', async () => {
    const before = driver.calls.length;
    assert.match((await post(socket, '/VolumeDriver.Mount', '{"Name":"v1"}')).json.Err, /no mount ID/);
    assert.match((await post(socket, '/VolumeDriver.Create', '{"Opts":{}}')).json.Err, /no volume Name/);
    assert.match((await post(socket, '/VolumeDriver.Create', '{"Name":"x","Opts":{"k":1}}')).json.Err, /option k must be a string/);
    assert.match((await post(socket, '/VolumeDriver.Create', 'not json')).json.Err, /bad request/);
    assert.equal((await post(socket, '/Nope', '{}')).status, 404);
    assert.equal(driver.calls.length, before);
  });
});
