import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free-port';
import { makeTempDir } from '../helpers/temp-dir';

/** This file runs as dist/test/unit/*.js; the plugin's entry point is dist/src/main.js. */
const MAIN = resolve(__dirname, '..', '..', 'src', 'main.js');

/** Loaded before main.js: on SIGUSR2 it says whether any prom-client module is loaded, and exits. */
const PROBE = `process.on('SIGUSR2', () => {
  const loaded = Object.keys(require.cache).some((path) => path.includes('/node_modules/prom-client/'));
  process.stdout.write('PROM_CLIENT_LOADED=' + loaded + '\\n', () => process.exit(0));
});`;

/**
 * Starts the plugin process on temporary folders until its log says `ready`, and reports whether
 * prom-client got loaded. (It pings the Docker API in the background, as every start does, and finds no
 * journal to replay: nothing else reaches the engine.)
 */
async function promClientLoaded(env: Record<string, string>, ready: string): Promise<boolean> {
  const dir = await makeTempDir('lazy-metrics');
  const probe = join(dir, 'probe.js');
  await writeFile(probe, PROBE);
  const child = spawn(process.execPath, ['-r', probe, MAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      BACKUPVOL_SOCKET: join(dir, 'plugin.sock'),
      BACKUPVOL_DATA_DIR: join(dir, 'data'),
      BACKUPVOL_ARCHIVE_DIR: join(dir, 'archive'),
      BACKUPVOL_MOUNT_ROOT: join(dir, 'mnt'),
      ...env,
    },
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await new Promise<void>((started, failed) => {
      const timer = setTimeout(() => failed(new Error(`the plugin did not log "${ready}" in 20 s: ${output}`)), 20_000);
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) (clearTimeout(timer), started());
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      void exited.then(() => (clearTimeout(timer), failed(new Error(`the plugin exited: ${output}`))));
    });
    child.kill('SIGUSR2');
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const answer = /PROM_CLIENT_LOADED=(true|false)/.exec(output);
  assert.ok(answer, output);
  return answer[1] === 'true';
}

describe('metrics cost nothing when off', { timeout: 60_000 }, () => {
  it('a plugin without METRICS_ADDR never loads prom-client', async () => {
    assert.equal(await promClientLoaded({ METRICS_ADDR: '' }, 'Listening on'), false);
  });

  it('a plugin with METRICS_ADDR loads it and serves', async () => {
    const port = await freePort();
    assert.equal(await promClientLoaded({ METRICS_ADDR: `127.0.0.1:${port}` }, 'Serving /metrics and /healthz on'), true);
  });
});
