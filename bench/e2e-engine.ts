import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestoreRecord, RunRecord } from '../src/vocabulary/run-record';
import { docker } from '../test/helpers/docker-cli';
import { HOST_DATA_DIR, hostVolumeDir, PLUGIN, PLUGIN_DIR, pluginPid, REPO_ROOT } from '../test/helpers/plugin';
import { assertTestImage, IDLE, TEST_IMAGE } from '../test/helpers/test-image';
import { measureFlushed } from './pipeline-rounds';
import { mebibytes } from './stats';

/** The chain volume's option: one full archive and up to seven incrementals on it. */
export const FULL_EVERY = 8;
/** Incremental runs on the chain volume; the restore reads the full archive and all of them. */
export const INCREMENTALS = 6;
/** From `docker plugin enable` returning to reading the idle RSS: the plugin has answered the engine by then. */
export const IDLE_SETTLE_MS = 2_000;

/**
 * The engine side of the e2e section: the real plugin and the host CLI, driven as a user drives them. Every
 * object it makes is named with one prefix of its own, so cleanup (removeObjectsWithPrefix) takes exactly those.
 */
export function benchPrefix(): string {
  return `bvbench-${randomBytes(4).toString('hex')}-`;
}

/** Why the section cannot run here, or undefined when it can. */
export async function missingForE2e(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'it needs root (the host CLI reads the plugin rootfs, the bench reads /proc of the plugin)';
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  } catch {
    return 'no Docker Engine answers';
  }
  try {
    await access(join(PLUGIN_DIR, 'config.json'));
  } catch {
    return `${PLUGIN_DIR} is missing: run \`make rootfs\` first`;
  }
  try {
    await assertTestImage();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** Room on the engine's side: three volumes with their mirrors and archives, and every restored volume (kept). */
export async function checkEngineRoom(corpusBytes: number, restores: number): Promise<void> {
  const needed = corpusBytes * (9 + restores) * 1.1;
  // The plugin's mount source: on a machine where the plugin was never installed, not there yet.
  await mkdir(HOST_DATA_DIR, { recursive: true });
  const { bavail, bsize } = await statfs(HOST_DATA_DIR);
  if (bavail * bsize < needed) throw new Error(`the e2e section needs ${mebibytes(needed)} free in ${HOST_DATA_DIR}`);
}

export function volumeDataDir(volume: string): string {
  return join(hostVolumeDir(volume), 'data');
}

/** A volume of the plugin holding a copy of `source`, written straight into its data folder on the host. */
export async function createFilledVolume(volume: string, source: string, options: string[]): Promise<void> {
  await docker(['volume', 'create', '-d', PLUGIN, ...options.flatMap((option) => ['-o', option]), volume]);
  const data = volumeDataDir(volume);
  await access(data);
  await measureFlushed('cp', ['-a', `${source}/.`, data]);
}

/** An idle container with the volume attached: the run stops it for the snapshot and starts it again. */
export async function startIdleContainer(name: string, volume: string): Promise<void> {
  await docker(['run', '-d', '--name', name, '-v', `${volume}:/data`, TEST_IMAGE, ...IDLE]);
}

const CLI = join(REPO_ROOT, 'bin', 'backupvol');

export interface TimedRun<R> {
  wallMs: number;
  record: R;
  /** The plugin process's peak RSS during the call (VmHWM, reset just before). */
  pluginPeakKiB: number;
}

/** `backupvol backup VOLUME`, timed from the user's shell, with the run record it prints. */
export async function backUp(volume: string): Promise<TimedRun<RunRecord>> {
  const run = await timedCli<RunRecord>(['backup', volume, '--json']);
  if (run.record.result !== 'success') throw new Error(`backupvol backup ${volume} failed: ${run.record.error}`);
  return run;
}

/** `backupvol restore VOLUME --from ARCHIVE --into NEW`. */
export async function restoreInto(volume: string, archive: string, into: string): Promise<TimedRun<RestoreRecord>> {
  const run = await timedCli<RestoreRecord>(['restore', volume, '--from', archive, '--into', into, '--json']);
  if (run.record.result !== 'success') throw new Error(`backupvol restore ${volume} --into ${into} failed: ${run.record.error}`);
  return run;
}

async function timedCli<R>(args: string[]): Promise<TimedRun<R>> {
  const pid = await resetPluginPeak();
  const measurement = await measureFlushed(CLI, args);
  const memory = await pluginMemory();
  // A new process would have a peak of its own: the figure would hide a crash and restart.
  if (memory.pid !== pid) throw new Error(`the plugin process changed during backupvol ${args.join(' ')} (${pid} -> ${memory.pid})`);
  return { wallMs: measurement.wallMs, record: JSON.parse(measurement.stdout) as R, pluginPeakKiB: memory.peakKiB };
}

export interface PluginMemory {
  pid: number;
  rssKiB: number;
  peakKiB: number;
}

export async function pluginMemory(): Promise<PluginMemory> {
  const pid = await pluginPid();
  if (pid === undefined) throw new Error('the plugin process is not found (none, or more than one)');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { pid, rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
}

/** Writing 5 to clear_refs sets the process's VmHWM back to its current RSS (proc(5)). */
async function resetPluginPeak(): Promise<number> {
  const { pid } = await pluginMemory();
  await writeFile(`/proc/${pid}/clear_refs`, '5');
  return pid;
}

/** Regular files under DIR: a restore that wrote fewer than its source has would look fast. */
export async function countFiles(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) count++;
  return count;
}
