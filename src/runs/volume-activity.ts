export type Activity = 'backup' | 'restore' | 'verify' | 'bring-back';

/**
 * What each volume is busy with. A volume does one thing at a time: a backup that comes due during a
 * restore is skipped like one that comes due during a backup, and a restore never swaps data under a
 * running backup's snapshot.
 */
export class VolumeActivity {
  private readonly current = new Map<string, Activity>();
  private readonly finished = new Map<string, Promise<void>>();

  of(volume: string): Activity | undefined {
    return this.current.get(volume);
  }

  /** Resolves once the volume's current activity, if any, has ended (whatever its outcome). */
  async idle(volume: string): Promise<void> {
    await this.finished.get(volume);
  }

  /** Resolves once no volume is busy any more (whatever the outcomes); at shutdown. */
  async allIdle(): Promise<void> {
    await Promise.all([...this.finished.values()]);
  }

  /** Runs work as the volume's activity; rejects at once when the volume is busy with anything. */
  async run<T>(volume: string, activity: Activity, work: () => Promise<T>): Promise<T> {
    const busy = this.current.get(volume);
    if (busy) throw new Error(`volume ${volume} is busy: a ${busy} of it is running`);
    this.current.set(volume, activity);
    let done: () => void = () => undefined;
    this.finished.set(volume, new Promise<void>((resolve) => (done = resolve)));
    try {
      return await work();
    } finally {
      this.current.delete(volume);
      this.finished.delete(volume);
      done();
    }
  }
}
