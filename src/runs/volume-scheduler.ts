import type { ScheduledTask } from 'node-cron';
import { loadNodeCron } from '../shared/cron-schedule';

export interface ScheduleRequest {
  volume: string;
  cron: string;
  jitterMs: number;
  fire: () => void;
}

/** One node-cron task per scheduled volume, in the plugin's TZ. Knows when, never what. */
export class VolumeScheduler {
  private readonly tasks = new Map<string, ScheduledTask>();

  constructor(private readonly timezone: string) {}

  set({ volume, cron, jitterMs, fire }: ScheduleRequest): void {
    this.remove(volume);
    const task = loadNodeCron().createTask(cron, () => fire(), {
      name: `backup ${volume}`,
      timezone: this.timezone,
      maxRandomDelay: jitterMs > 0 ? jitterMs : undefined,
      // Overlap is decided by the caller, which also skips runs of a volume already being backed up.
      noOverlap: false,
      suppressMissedWarning: true,
    });
    void task.start();
    this.tasks.set(volume, task);
  }

  remove(volume: string): void {
    const task = this.tasks.get(volume);
    if (!task) return;
    void task.destroy();
    this.tasks.delete(volume);
  }

  nextRun(volume: string): Date | undefined {
    return this.tasks.get(volume)?.getNextRun() ?? undefined;
  }

  stopAll(): void {
    for (const volume of [...this.tasks.keys()]) this.remove(volume);
  }
}
