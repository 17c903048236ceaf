import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Kills the command after this long (default two minutes): a hung engine fails the test, never blocks it. */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** A command that exited non-zero (or timed out), with what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} failed (${exitCode ?? 'killed'}): ${stderr.trim() || stdout.trim() || 'no output'}`);
    this.name = 'CommandError';
  }
}

/** Runs FILE with ARGS (no shell, so no quoting) and returns its stdout; throws CommandError on failure. */
export function run(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        cwd: options.cwd,
        env: options.env ?? process.env,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as { code?: number | string }).code ?? null;
          reject(new CommandError([file, ...args].join(' '), code, stdout, stderr));
        } else {
          resolve(stdout);
        }
      },
    );
    // A command that exits without reading its input closes the pipe: EPIPE is not the command's failure.
    child.stdin?.on('error', () => undefined);
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/** `docker ARGS...`; returns stdout. */
export function docker(args: string[], options: RunOptions = {}): Promise<string> {
  return run('docker', args, options);
}

/** `docker ARGS...` whose stdout is JSON (inspect, or --format '{{json .}}'). */
export async function dockerJson<T>(args: string[], options: RunOptions = {}): Promise<T> {
  return JSON.parse(await docker(args, options)) as T;
}

/** Rejects with the CommandError of `docker ARGS...`, which the test expects to fail. */
export async function dockerFailure(args: string[], options: RunOptions = {}): Promise<CommandError> {
  try {
    await docker(args, options);
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error(`docker ${args.join(' ')} succeeded, but it was expected to fail`);
}
