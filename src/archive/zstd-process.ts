import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * zstd runs as the zstd binary (shipped in the plugin rootfs; Node 20's zlib has no zstd). Same flags as
 * the command line people compare against: level 3, one worker per core (-T0). Arguments are an array:
 * no shell is involved.
 */
const ARGUMENTS = { compress: ['-3', '-T0', '-c', '-q'], decompress: ['-d', '-c', '-q'] };

const STDERR_LIMIT = 4096;

export interface ZstdProcess {
  /** Null when reading `input`. */
  stdin: Writable | null;
  /** Null when writing to `output`. */
  stdout: Readable | null;
  /** Resolves when zstd exited with 0; rejects with its stderr otherwise, or if it could not start. */
  exited: Promise<void>;
}

export interface ZstdOptions {
  direction: 'compress' | 'decompress';
  /**
   * What to read instead of a stdin pipe from this process: a file (or named pipe) by path, or a
   * descriptor zstd gets as its stdin (the caller still closes its own copy).
   */
  input?: string | number;
  /** A descriptor (the write end of a pipe) to write to instead of a stdout pipe to this process. */
  output?: number;
  /** Aborting kills the process. */
  signal?: AbortSignal;
}

export function spawnZstd(options: ZstdOptions): ZstdProcess {
  const { input } = options;
  const args = typeof input === 'string' ? [...ARGUMENTS[options.direction], '--', input] : ARGUMENTS[options.direction];
  const stdin = input === undefined ? 'pipe' : typeof input === 'number' ? input : 'ignore';
  const child = spawn('zstd', args, { stdio: [stdin, options.output ?? 'pipe', 'pipe'], signal: options.signal });
  let stderr = '';
  (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
  });
  const exited = new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure = error.code === 'ENOENT' ? new Error('zstd is not installed (needed for zstd archives)') : error;
      // Never started: no 'close' will come. Otherwise (killed on abort) settle only once it is gone.
      if (child.pid === undefined) reject(failure);
    });
    child.once('close', (code, signal) => {
      if (code === 0 && !failure) return resolve();
      const reason = `${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
      // zstd's own failure is the cause even when an abort came after it: the abort's kill may reach a
      // zstd that had already exited (a reader that saw the stream end made the caller abort).
      if (code !== null && code !== 0) return reject(new Error(`zstd exited with code ${code}${reason}`));
      reject(failure ?? new Error(`zstd was killed by ${signal}${reason}`));
    });
  });
  // Observed here; callers await it when they need to.
  exited.catch(() => undefined);
  return { stdin: child.stdin, stdout: child.stdout, exited };
}
