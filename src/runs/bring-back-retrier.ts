import type { DockerApi } from '../engine/docker-api';
import type { Logger } from '../shared/logger';
import type { VolumeActivity } from './volume-activity';
import { bringBack } from '../engine/bring-back';
import type { StopJournal } from '../engine/stop-journal';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5 * 60_000;

/** What the status shows of a volume whose containers or services did not come back yet. */
export interface LeftDownStatus {
  /** One message per container or service, with why it did not come back. */
  failures: string[];
  retries: number;
  nextAttemptAt: string;
}

interface Pending {
  status: LeftDownStatus;
  timer: NodeJS.Timeout;
}

/**
 * Keeps bringing back what a run (or the replay at start) could not, for as long as the plugin runs:
 * an engine that refused a start a moment ago usually takes it later, and a user's container must not
 * stay down until the next plugin start. Attempts back off from 1 s, doubling up to 5 min. Each attempt
 * reads the volume's journal entry (so what something else brought back meanwhile is not retried) and
 * runs as the volume's activity: never while a backup or restore of it has containers stopped.
 */
export class BringBackRetrier {
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    private readonly deps: {
      docker: DockerApi;
      journal: StopJournal;
      activity: VolumeActivity;
      logger: Logger;
      firstDelayMs?: number;
      maxDelayMs?: number;
    },
  ) {}

  /** Starts retrying what the volume's journal entry still holds, unless it is empty or already being retried. */
  async retryJournaled(volume: string): Promise<void> {
    if (this.stopped || this.pending.has(volume)) return;
    const entry = await this.deps.journal.read(volume);
    const left = [
      ...(entry?.containers ?? []).filter((stop) => stop.restart).map((stop) => `container ${stop.name}`),
      ...(entry?.services ?? []).filter((scale) => scale.restart).map((scale) => `service ${scale.name}`),
    ];
    if (left.length > 0) this.schedule(volume, left, 0);
  }

  status(volume: string): LeftDownStatus | undefined {
    return this.pending.get(volume)?.status;
  }

  /** At shutdown: no attempt starts any more (the shutdown brings back what it can itself). */
  stop(): void {
    this.stopped = true;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private schedule(volume: string, failures: string[], retries: number): void {
    const waitMs = Math.min((this.deps.firstDelayMs ?? FIRST_DELAY_MS) * 2 ** retries, this.deps.maxDelayMs ?? MAX_DELAY_MS);
    this.deps.logger.warn(`Could not bring back ${failures.join('; ')} for volume ${volume}; trying again in ${waitMs / 1000} s`);
    const timer = setTimeout(() => void this.attempt(volume, retries + 1), waitMs);
    timer.unref();
    this.pending.set(volume, { status: { failures, retries, nextAttemptAt: new Date(Date.now() + waitMs).toISOString() }, timer });
  }

  private async attempt(volume: string, retries: number): Promise<void> {
    if (this.stopped) return;
    const failures = this.pending.get(volume)?.status.failures ?? [];
    try {
      if (this.deps.activity.of(volume)) {
        // That run or restore has its own stops in the same entry; it must not see them started under it.
        this.schedule(volume, failures, retries);
        return;
      }
      const left = await this.deps.activity.run(volume, 'bring-back', async () => {
        const entry = await this.deps.journal.read(volume);
        if (!entry) return [];
        const { docker, journal, logger } = this.deps;
        const outcome = await bringBack({ docker, journal, volume, stops: entry.containers, scales: entry.services ?? [], logger });
        return outcome.failures;
      });
      if (this.stopped) return;
      if (left.length === 0) {
        this.pending.delete(volume);
        this.deps.logger.info(`Brought back what was left down for volume ${volume} (after ${retries} retries)`);
        return;
      }
      this.schedule(volume, left, retries);
    } catch (error) {
      if (!this.stopped) this.schedule(volume, failures.length > 0 ? failures : [(error as Error).message], retries);
    }
  }
}
