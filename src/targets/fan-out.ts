import { Writable } from 'node:stream';

/** One destination of a FanOut. `failure` is set once it failed; it then gets nothing more. */
export interface FanOutBranch {
  name: string;
  stream: Writable;
  failure?: Error;
}

const watched = new WeakSet<Writable>();

/**
 * Records the first error of branch's stream as its failure (once per stream, whoever asks first: an
 * upload can fail before the fan-out exists). An AbortError is not one: the stream was destroyed by the
 * run's own teardown after something else failed, and that is the cause to report (a destroyed stream
 * gets nothing more written anyway, see writeTo).
 */
export function watchBranchFailure(branch: FanOutBranch): void {
  if (watched.has(branch.stream)) return;
  watched.add(branch.stream);
  branch.stream.on('error', (error: Error) => {
    if (error.name !== 'AbortError') branch.failure ??= error;
  });
}

/**
 * Writes every chunk to several streams (one per target) without buffering: the next chunk is accepted
 * only when every live branch took this one (or drained), so the slowest target paces the archive. A
 * branch that fails is dropped with its error and the others go on; the fan-out itself fails only when
 * no branch is left.
 */
export class FanOut extends Writable {
  constructor(readonly branches: FanOutBranch[]) {
    super();
    for (const branch of branches) watchBranchFailure(branch);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const waits = this.live().map((branch) => this.writeTo(branch, chunk));
    void Promise.all(waits).then(() => callback(this.noneLeft()));
  }

  override _final(callback: (error?: Error | null) => void): void {
    const ends = this.live().map(
      (branch) =>
        new Promise<void>((resolve) => {
          branch.stream.once('finish', resolve);
          branch.stream.once('error', () => resolve());
          branch.stream.once('close', () => resolve());
          branch.stream.end();
        }),
    );
    void Promise.all(ends).then(() => callback(this.noneLeft()));
  }

  live(): FanOutBranch[] {
    return this.branches.filter((branch) => !branch.failure);
  }

  private writeTo(branch: FanOutBranch, chunk: Buffer): Promise<void> {
    if (branch.stream.destroyed) {
      branch.failure ??= new Error('the upload stream closed early');
      return Promise.resolve();
    }
    if (branch.stream.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        branch.stream.off('drain', done).off('error', done).off('close', done);
        if (branch.stream.destroyed) branch.failure ??= new Error('the upload stream closed early');
        resolve();
      };
      branch.stream.on('drain', done).on('error', done).on('close', done);
    });
  }

  private noneLeft(): Error | null {
    if (this.live().length > 0) return null;
    return this.branches[0]?.failure ?? new Error('no target left to write to');
  }
}
