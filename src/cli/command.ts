import type { HostEngine } from '../engine/host-engine';
import type { CliSettings } from '../settings/settings';

/** Exit codes (README): 0 done, 1 the operation failed, 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

export interface Invocation {
  positionals: string[];
  json: boolean;
  from?: string;
  into?: string;
  all: boolean;
  out?: string;
  dryRun: boolean;
  settings: CliSettings;
  engine: HostEngine;
}

export interface Command {
  usage: string;
  summary: string;
  /** Which of the shared flags it takes, beyond --json and --help. */
  flags: Array<'from' | 'into' | 'all' | 'out' | 'dry-run'>;
  positionals: { min: number; max: number };
  run(invocation: Invocation): Promise<number>;
}

export function print(json: boolean, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}
