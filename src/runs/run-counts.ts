import type { RunRecord } from '../vocabulary/run-record';

export type RunResultCounts = Record<RunRecord['result'], number>;

/**
 * How many backup runs of each volume succeeded and failed since the plugin started: what a Prometheus
 * counter needs and the persisted state does not keep (it holds the last run only). Plain numbers, so
 * counting costs nothing when metrics are off and prom-client is never loaded.
 */
export class RunCounts {
  private readonly counts = new Map<string, RunResultCounts>();

  count(volume: string, result: RunRecord['result']): void {
    const counts = this.of(volume);
    counts[result] += 1;
    this.counts.set(volume, counts);
  }

  of(volume: string): RunResultCounts {
    return { ...(this.counts.get(volume) ?? { success: 0, failed: 0 }) };
  }

  /** A volume removed and created again under its name starts from zero, as a counter that was reset. */
  forget(volume: string): void {
    this.counts.delete(volume);
  }
}
