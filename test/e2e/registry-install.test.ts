import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, run } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { PLUGIN, REPO_ROOT, installFreshPlugin, pluginEnabled, pluginExists, removePlugin } from '../helpers/plugin';
import { assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { readInVolume, writeInVolume } from '../helpers/volumes';

/**
 * The way users get the plugin: `docker plugin push` to a registry (Debian's docker-registry on 127.0.0.1,
 * which the engine trusts without TLS), then `docker plugin install REPO --alias backupvol`. Leaves
 * `backupvol` installed from the registry and enabled.
 */
describe('docker plugin push and install from a registry', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();
  let registry: ChildProcess | undefined;
  let repository = '';
  let dir = '';

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'backupvol-registry-'));
    const config = {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${port}` },
    };
    await writeFile(join(dir, 'config.yml'), JSON.stringify(config));
    // Its log (every 404 of a blob check is an error line) is kept for a registry that does not start.
    let log = '';
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    registry.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    await eventually('the registry answers', async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok, 30_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${log}`);
      },
    );
    repository = `127.0.0.1:${port}/backupvol:latest`;
  });

  after(async () => {
    if (repository !== '') await removePlugin(repository).catch(() => undefined);
    registry?.kill('SIGTERM');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('pushes the plugin, and installs it under the alias backupvol', async () => {
    await run(join(REPO_ROOT, 'scripts', 'push-plugin.sh'), [repository], { timeoutMs: 300_000 });
    assert.ok(!(await pluginExists(repository)), 'pushing leaves no second plugin behind');

    await docker(['plugin', 'disable', '-f', PLUGIN]);
    await docker(['plugin', 'rm', '-f', PLUGIN]);
    await docker(['plugin', 'install', repository, '--alias', PLUGIN, '--grant-all-permissions'], { timeoutMs: 300_000 });

    assert.ok(await pluginEnabled(PLUGIN), 'the installed plugin is enabled');
    const reference = (await docker(['plugin', 'inspect', '--format', '{{.PluginReference}}', PLUGIN])).trim();
    assert.equal(reference, repository);

    const volume = `${prefix}from-registry`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=@hourly', volume]);
    await writeInVolume(volume, 'file.txt', 'installed from a registry\n');
    assert.equal(await readInVolume(volume, 'file.txt'), 'installed from a registry\n');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
