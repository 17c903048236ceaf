import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface ProcessMeasurement {
  wallMs: number;
  /** Sum over the process tree of each process's peak RSS (VmHWM): an upper bound of the tree's peak. */
  treePeakRssKiB: number;
  /** User + system CPU of the command and everything it waited for (bash's `times` for its children). */
  cpuMs: number;
  stdout: string;
}

const POLL_MS = 50;

/**
 * Runs a command and measures its wall time and peak memory. Memory is sampled from /proc because
 * getrusage only reports the largest single descendant, and a pipeline's cost is node plus its compressor.
 */
export async function measureProcess(command: string, args: string[]): Promise<ProcessMeasurement> {
  const started = process.hrtime.bigint();
  // bash runs the command and then reports its children's CPU times on fd 3 (no string interpolation:
  // the command and its arguments are positional parameters).
  const script = '"$@"; status=$?; times >&3; exit $status';
  const child = spawn('bash', ['-c', script, 'measure', command, ...args], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
  let times = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (text: string) => (times += text));
  const peaks = new Map<number, number>();
  let stdout = '';
  (child.stdout as Readable).setEncoding('utf8').on('data', (text: string) => (stdout += text));
  let polling = true;
  const poller = (async () => {
    while (polling) {
      if (child.pid !== undefined) await sampleTree(child.pid, peaks);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject).once('close', (exitCode) => resolve(exitCode));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  polling = false;
  await poller;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}`);
  let treePeakRssKiB = 0;
  // Everything but the measuring bash itself.
  for (const [pid, peak] of peaks) if (pid !== child.pid) treePeakRssKiB += peak;
  return { wallMs, treePeakRssKiB, cpuMs: childrenCpuMs(times), stdout };
}

/** `times` prints the shell's user/system times, then its children's: "0m3.850s 0m1.100s". */
function childrenCpuMs(times: string): number {
  const line = times.trim().split('\n')[1] ?? '';
  let total = 0;
  for (const match of line.matchAll(/(\d+)m([\d.]+)s/g)) total += (Number(match[1]) * 60 + Number(match[2])) * 1000;
  return total;
}

async function sampleTree(root: number, peaks: Map<number, number>): Promise<void> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 1) parents.set(Number(name), Number(fields[1]));
  }
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid; current !== undefined && current > 1; current = parents.get(current)) {
      if (current === root) return true;
    }
    return false;
  };
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, Number(match[1])));
  }
}
