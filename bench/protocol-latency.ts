import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PLUGIN_PROCESS } from '../test/helpers/plugin';

/**
 * `npm run bench:protocol`: latency of the real, enabled plugin's protocol with many volumes, and its RSS
 * at rest. Talks to the plugin socket directly (as the engine does); creates BENCH_VOLUMES volumes named
 * bvbench-*, and removes them again.
 */
const COUNT = Number(process.env.BENCH_VOLUMES ?? '1000');
const ROUNDS = 2_000;

function call(socketPath: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: route, method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        const json = JSON.parse(text) as Record<string, unknown>;
        if (json.Err) reject(new Error(`${route}: ${String(json.Err)}`));
        else resolve(json);
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function timed(rounds: number, work: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await work(i);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(rounds * 0.5)], p99: samples[Math.floor(rounds * 0.99)] };
}

function pluginRssMiB(): number {
  const pid = execFileSync('pgrep', ['-f', PLUGIN_PROCESS], { encoding: 'utf8' }).trim().split('\n')[0];
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(line.replace(/\D+/g, '')) / 1024;
}

async function main(): Promise<void> {
  const id = execFileSync('docker', ['plugin', 'inspect', '-f', '{{.Id}}', 'backupvol'], { encoding: 'utf8' }).trim();
  const socket = `/run/docker/plugins/${id}/backupvol.sock`;
  const names = Array.from({ length: COUNT }, (_, i) => `bvbench-${i}`);
  const idleBefore = pluginRssMiB();
  try {
    for (const name of names) await call(socket, '/VolumeDriver.Create', { Name: name, Opts: {} });
    const get = await timed(ROUNDS, (i) => call(socket, '/VolumeDriver.Get', { Name: names[i % COUNT] }));
    const list = await timed(50, () => call(socket, '/VolumeDriver.List', {}));
    const mount = await timed(200, (i) => call(socket, '/VolumeDriver.Mount', { Name: names[i % COUNT], ID: `bench-${i}` }));
    const unmount = await timed(200, (i) => call(socket, '/VolumeDriver.Unmount', { Name: names[i % COUNT], ID: `bench-${i}` }));
    const idleWith = pluginRssMiB();
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    console.log(`| measure (${COUNT} volumes) | p50 | p99 |\n|---|---|---|`);
    for (const [label, result] of Object.entries({ Get: get, List: list, Mount: mount, Unmount: unmount })) {
      console.log(`| ${label} | ${ms(result.p50)} | ${ms(result.p99)} |`);
    }
    console.log(`\nPlugin RSS at rest: ${idleBefore.toFixed(1)} MiB before, ${idleWith.toFixed(1)} MiB with ${COUNT} volumes.`);
  } finally {
    for (const name of names) await call(socket, '/VolumeDriver.Remove', { Name: name }).catch(() => undefined);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
