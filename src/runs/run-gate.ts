import type { ConcurrencyLimit } from '../shared/concurrency-limit';
import type { Activity, VolumeActivity } from './volume-activity';

export interface RunGateDeps {
  activity: VolumeActivity;
  /** MAX_CONCURRENT_BACKUPS slots, shared by everything that stops containers. */
  limit: ConcurrencyLimit;
  /** Resolves once the Docker API answers; runs wait for it, the protocol never does. */
  dockerReady: Promise<void>;
}

/**
 * Who may run when. A volume does one thing at a time (backup, restore, verify). Work that stops
 * containers also waits for the Docker API and takes one of the MAX_CONCURRENT_BACKUPS slots: a container
 * that mounts two volumes must not be started again by one run in the middle of the other's quiesce.
 */
export class RunGate {
  constructor(private readonly deps: RunGateDeps) {}

  busyWith(volume: string): Activity | undefined {
    return this.deps.activity.of(volume);
  }

  /** Resolves once the volume's current work, if any, has ended. */
  idle(volume: string): Promise<void> {
    return this.deps.activity.idle(volume);
  }

  /** Runs work as the volume's one activity; rejects at once when the volume is busy with anything. */
  turn<T>(volume: string, kind: Activity, work: () => Promise<T>): Promise<T> {
    return this.deps.activity.run(volume, kind, work);
  }

  /** Work that stops containers, once the Docker API answers and a slot is free; `waiting` hears which wait is on. */
  async slot<T>(work: () => Promise<T>, waiting?: (phase: string) => void): Promise<T> {
    waiting?.('waiting for the Docker API');
    await this.deps.dockerReady;
    waiting?.('waiting for a free slot (MAX_CONCURRENT_BACKUPS)');
    return this.deps.limit.run(work);
  }
}
