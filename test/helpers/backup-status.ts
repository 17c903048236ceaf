import { docker } from './docker-cli';
import { eventually } from './eventually';
import { inspectVolume } from './volumes';

/** `lastRun` in a backupvol volume's Status. */
export interface LastRunStatus {
  time: string;
  result: 'success' | 'failed';
  archive: string | null;
  bytes: number | null;
  durationMs: number;
  downtimeMs: number | null;
  stopped: string[];
  snapshot: string | null;
  fellBack?: string;
  warning?: string;
  error: string | null;
}

export interface BackupStatus {
  schedule: string;
  nextRun: string | null;
  target: string;
  archives: number;
  running: boolean;
  quiesced: boolean | null;
  lastRun: LastRunStatus | null;
  /** The last restore's record (RestoreRecord), when the volume had one. */
  lastRestore?: Record<string, unknown>;
}

export async function backupStatus(volume: string): Promise<BackupStatus> {
  return (await inspectVolume(volume)).Status as unknown as BackupStatus;
}

/** Waits until a run that started after SINCE has finished, and returns its status. */
export async function waitForRunAfter(volume: string, since: Date, timeoutMs = 90_000): Promise<BackupStatus> {
  let status: BackupStatus | undefined;
  await eventually(`a backup run of ${volume} after ${since.toISOString()}`, async () => {
    status = await backupStatus(volume);
    return status.lastRun !== null && Date.parse(status.lastRun.time) >= since.getTime() - 1_000;
  }, timeoutMs);
  return status as BackupStatus;
}

/** Actions (`die`, `start`, ...) of CONTAINER between SINCE and now, in order, from `docker events`. */
export async function containerEvents(container: string, since: Date): Promise<string[]> {
  const output = await docker([
    'events',
    '--since',
    // To the millisecond: rounded to the second, it either took in the container's own first start or left
    // out a stop and start made within that second (a container that exits on SIGTERM at once).
    (since.getTime() / 1000).toFixed(3),
    '--until',
    String(Math.ceil(Date.now() / 1000)),
    '--filter',
    `container=${container}`,
    '--filter',
    'event=die',
    '--filter',
    'event=start',
    '--format',
    '{{.Action}}',
  ]);
  return output.split('\n').filter((line) => line !== '');
}

export async function isRunning(container: string): Promise<boolean> {
  return (await docker(['inspect', '--format', '{{.State.Running}}', container])).trim() === 'true';
}

/**
 * Waits until CONTAINER runs: something else brings it back (a plugin restarted by the engine), or, on a
 * seconds schedule, the next run may already have stopped it again by the time a test looks.
 */
export async function waitUntilRunning(container: string, why: string): Promise<void> {
  await eventually(`${container}: ${why}`, () => isRunning(container), 60_000);
}

/** True when ACTIONS show the container dying and then starting again (a quiesce and its undo). */
export function stoppedThenStarted(actions: string[]): boolean {
  const died = actions.indexOf('die');
  return died >= 0 && actions.indexOf('start', died) > died;
}
