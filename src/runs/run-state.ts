import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../shared/atomic-file';
import { KeyedLock } from '../shared/keyed-lock';
import type { Logger } from '../shared/logger';
import type { RunState } from '../vocabulary/run-record';

/** `run-state.json` beside volume.json: the state goes with the volume and survives restarts. */
export class RunStateStore {
  constructor(private readonly volumesDir: string) {}

  async read(volume: string): Promise<RunState> {
    try {
      return JSON.parse(await readFile(this.path(volume), 'utf8')) as RunState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  async write(volume: string, state: RunState): Promise<void> {
    await writeFileAtomically(this.path(volume), `${JSON.stringify(state, null, 2)}\n`);
  }

  private path(volume: string): string {
    return join(this.volumesDir, volume, 'run-state.json');
  }
}

/**
 * Every volume's run state, in memory for the status and persisted on each change. Failures to read or
 * write are logged, never thrown: a run's outcome stands even when its record cannot be saved.
 */
export class RunStates {
  private readonly states = new Map<string, RunState>();
  /** Writes of one volume, one after another: a late write must not put back an older state. */
  private readonly writes = new KeyedLock();

  constructor(
    private readonly store: RunStateStore,
    private readonly logger: Logger,
  ) {}

  of(volume: string): RunState {
    return this.states.get(volume) ?? {};
  }

  async load(volume: string): Promise<RunState> {
    const state = await this.store.read(volume).catch((error: Error) => {
      this.logger.error(`Could not read the run state of volume ${volume}: ${error.message}`);
      return {} as RunState;
    });
    this.states.set(volume, state);
    return state;
  }

  /**
   * Drops the volume's state, and resolves once a write already under way is done: the volume's folder
   * goes next, and a late write would make it again.
   */
  async forget(volume: string): Promise<void> {
    this.states.delete(volume);
    await this.writes.run(volume, async () => undefined);
  }

  /** Merges `change` into the volume's state and saves it; a volume no longer followed is left alone. */
  async update(volume: string, change: Partial<RunState>): Promise<void> {
    const previous = this.states.get(volume);
    if (!previous) return;
    const next = { ...previous, ...change };
    if (Object.entries(change).every(([key, value]) => previous[key as keyof RunState] === value)) return;
    this.states.set(volume, next);
    await this.save(volume);
  }

  /** Writes the volume's state as it is in memory when its turn comes (not as it was when asked). */
  private async save(volume: string): Promise<void> {
    await this.writes
      .run(volume, async () => {
        const state = this.states.get(volume);
        if (state) await this.store.write(volume, state);
      })
      .catch((error: Error) => {
        this.logger.error(`Could not save the run state of volume ${volume}: ${error.message}`);
      });
  }
}
