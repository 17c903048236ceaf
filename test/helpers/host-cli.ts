import { join } from 'node:path';
import { CommandError, run } from './docker-cli';
import { REPO_ROOT } from './plugin';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/backupvol as a user would; never throws on a non-zero exit, which tests assert. */
export async function backupvolCli(args: string[]): Promise<CliOutcome> {
  try {
    const stdout = await run(join(REPO_ROOT, 'bin', 'backupvol'), args, { timeoutMs: 300_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    if (!(error instanceof CommandError) || typeof error.exitCode !== 'number') throw error;
    return { code: error.exitCode, stdout: error.stdout, stderr: error.stderr };
  }
}

/** `backupvol ARGS --json`, expecting success; returns the parsed output. */
export async function backupvolJson<T>(args: string[]): Promise<T> {
  const outcome = await backupvolCli([...args, '--json']);
  if (outcome.code !== 0) throw new Error(`backupvol ${args.join(' ')} exited ${outcome.code}: ${outcome.stderr}${outcome.stdout}`);
  return JSON.parse(outcome.stdout) as T;
}
