export type Activity = 'backup' | 'restore' | 'verify';

/**
 * What each volume is busy with. A volume does one thing at a time: a backup that comes due during a
 * restore is skipped like one that comes due during a backup, and a restore never swaps data under a
 * running backup's snapshot.
 */
export class VolumeActivity {
  private readonly current = new Map<string, Activity>();

  of(volume: string): Activity | undefined {
    return this.current.get(volume);
  }

  /** Runs work as the volume's activity; rejects at once when the volume is busy with anything. */
  async run<T>(volume: string, activity: Activity, work: () => Promise<T>): Promise<T> {
    const busy = this.current.get(volume);
    if (busy) throw new VolumeBusyError(`volume ${volume} is busy: a ${busy} of it is running`);
    this.current.set(volume, activity);
    try {
      return await work();
    } finally {
      this.current.delete(volume);
    }
  }
}

export class VolumeBusyError extends Error {}
