import { performance } from 'node:perf_hooks';

/**
 * Adds up the time spent in each phase of one operation, in the order the phases first ran. Phases are
 * floored and the total ceiled to whole milliseconds, so the phases never add up to more than the total.
 */
export class PhaseTimer<Phase extends string> {
  private readonly startedAt = performance.now();
  private readonly spent = new Map<Phase, number>();

  /** onPhase hears each phase as it begins (the run's progress). */
  constructor(private readonly onPhase?: (phase: Phase) => void) {}

  async time<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    this.onPhase?.(phase);
    const phaseStartedAt = performance.now();
    try {
      return await work();
    } finally {
      this.spent.set(phase, (this.spent.get(phase) ?? 0) + performance.now() - phaseStartedAt);
    }
  }

  timings(): Partial<Record<Phase, number>> {
    return Object.fromEntries([...this.spent].map(([phase, ms]) => [phase, Math.floor(ms)])) as Partial<Record<Phase, number>>;
  }

  elapsedMs(): number {
    return Math.ceil(performance.now() - this.startedAt);
  }
}
