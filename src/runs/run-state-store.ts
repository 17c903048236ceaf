import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunState } from '../vocabulary/run-record';
import { writeFileAtomically } from '../shared/atomic-file';

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
