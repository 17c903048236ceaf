import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** The codecs that run as a program of the plugin rootfs rather than in this process. */
export type ExternalCodec = 'zstd' | 'gzip';

interface CodecProgram {
  binary: string;
  compress?: readonly string[];
  decompress: readonly string[];
}

/**
 * zstd: Node 20's zlib has none; same flags as the command line people compare against, level 3, one
 * worker per core (-T0). gzip archives are written in this process (gzip-members.ts) but read by unpigz
 * (restore, verify, drill): inflating here kept zlib's input and output chunks, and the batches carrying
 * the tar stream to the extraction worker, alive until the next collection, a restore's peak RSS ~30 MiB
 * above unpigz's; unpigz writes the tar stream into the worker's pipe as zstd does, and inflates on a
 * core of its own. It reads concatenated members (what createArchive writes) as one stream, and is not
 * made quiet, so that its stderr says why it failed. Arguments are an array: no shell is involved.
 */
const PROGRAMS: Record<ExternalCodec, CodecProgram> = {
  zstd: { binary: 'zstd', compress: ['-3', '-T0', '-c', '-q'], decompress: ['-d', '-c', '-q'] },
  gzip: { binary: 'unpigz', decompress: ['-d', '-c'] },
};

const STDERR_LIMIT = 4096;

export interface CodecProcess {
  /** Null when reading `input`. */
  stdin: Writable | null;
  /** Null when writing to `output`. */
  stdout: Readable | null;
  /** Resolves when the program exited with 0; rejects with its stderr otherwise, or if it could not start. */
  exited: Promise<void>;
}

export interface CodecOptions {
  codec: ExternalCodec;
  direction: 'compress' | 'decompress';
  /**
   * What to read instead of a stdin pipe from this process: a file (or named pipe) by path, or a
   * descriptor the program gets as its stdin (the caller still closes its own copy).
   */
  input?: string | number;
  /** A descriptor (the write end of a pipe) to write to instead of a stdout pipe to this process. */
  output?: number;
  /** Aborting kills the process. */
  signal?: AbortSignal;
}

export function spawnCodec(options: CodecOptions): CodecProcess {
  const { input, codec } = options;
  const program = PROGRAMS[codec];
  const flags = program[options.direction];
  if (flags === undefined) throw new Error(`${codec} is not compressed by an external program`);
  const args = typeof input === 'string' ? [...flags, '--', input] : [...flags];
  const stdin = input === undefined ? 'pipe' : typeof input === 'number' ? input : 'ignore';
  const child = spawn(program.binary, args, { stdio: [stdin, options.output ?? 'pipe', 'pipe'], signal: options.signal });
  let stderr = '';
  (child.stderr as Readable).setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
  });
  const exited = new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure = error.code === 'ENOENT' ? new Error(`${program.binary} is not installed (needed for ${codec} archives)`) : error;
      // Never started: no 'close' will come. Otherwise (killed on abort) settle only once it is gone.
      if (child.pid === undefined) reject(failure);
    });
    child.once('close', (code, signal) => {
      if (code === 0 && !failure) return resolve();
      const reason = `${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
      // The program's own failure is the cause even when an abort came after it: the abort's kill may
      // reach one that had already exited (a reader that saw the stream end made the caller abort).
      if (code !== null && code !== 0) return reject(new Error(`${program.binary} exited with code ${code}${reason}`));
      reject(failure ?? new Error(`${program.binary} was killed by ${signal}${reason}`));
    });
  });
  // Observed here; callers await it when they need to.
  exited.catch(() => undefined);
  return { stdin: child.stdin, stdout: child.stdout, exited };
}
