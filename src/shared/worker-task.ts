import { parentPort, receiveMessageOnPort, Worker, workerData, type MessagePort } from 'node:worker_threads';

/**
 * A task run in a worker thread, and the one message protocol between it and the main thread:
 * - started with setup data (cloned) and a few flags in shared memory;
 * - batches of bytes either way: an ArrayBuffer transferred (not copied), of which `length` bytes count,
 *   given back with giveBack() once used so that the sender fills it again (the return is the
 *   backpressure, the pool of buffers all the memory);
 * - an outcome: the worker's run() returns its result, or throws (the main thread gets an Error with the
 *   same message and the thrown error's own fields, such as code or path);
 * - stop: a flag the worker checks, which also wakes a worker blocked in waitForReturn().
 * A message costs ~40 µs on each side, so batches are large (hundreds of KiB).
 */

type Batch = { kind: 'batch'; buffer: ArrayBuffer; length: number };
type Returned = { kind: 'return'; buffer: ArrayBuffer };
type ToWorker = Batch | Returned | { kind: 'end' };
type ErrorFields = Record<string, string | number | boolean | undefined>;
type FromWorker<Result> = Batch | Returned | { kind: 'done'; result: Result } | { kind: 'failed'; message: string; fields: ErrorFields };

interface TaskSetup<Data> {
  data: Data;
  /** Int32Array over it: [WAKE counter, STOP flag, WAITING flag]. */
  control: SharedArrayBuffer;
}

const WAKE = 0;
const STOP = 1;
/** Set by the worker while it sleeps: the main thread only pays for a futex wake-up when it is. */
const WAITING = 2;
const CONTROL_SLOTS = 3;

export interface BatchHandlers {
  /** `length` bytes of `buffer` are the sender's; give it back (giveBack) once done with them. */
  batch?: (buffer: ArrayBuffer, length: number) => void;
  /** A buffer the other side is done with. */
  returned?: (buffer: ArrayBuffer) => void;
  /** The main thread sends no more batches (worker side only). */
  end?: () => void;
}

export interface WorkerTaskOptions<Data> {
  data: Data;
  /** Says which worker in the error when it exits without an outcome: "the packing worker". */
  name: string;
  /** V8's default young generation (up to 3 x 16 MiB) only grows the RSS of a worker that allocates little. */
  youngGenerationMb?: number;
  /** Stops the task: the outcome rejects with the reason (see stop()). */
  signal?: AbortSignal;
}

/** The main thread's side of a task. */
export class WorkerTask<Result> {
  /** The worker's result; rejects when it failed, crashed, exited without one or was stopped. */
  readonly outcome: Promise<Result>;
  /** Once the worker's thread is gone (whatever the outcome): nothing of it runs any more. */
  readonly exited: Promise<void>;
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private handlers: BatchHandlers = {};
  private rejectOutcome: (reason: unknown) => void = () => undefined;

  constructor(script: string, options: WorkerTaskOptions<unknown>) {
    const setup: TaskSetup<unknown> = { data: options.data, control: this.control.buffer as SharedArrayBuffer };
    const youngGeneration = options.youngGenerationMb;
    this.worker = new Worker(script, {
      workerData: setup,
      resourceLimits: youngGeneration === undefined ? undefined : { maxYoungGenerationSizeMb: youngGeneration },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.outcome = new Promise<Result>((resolve, reject) => {
      this.rejectOutcome = reject;
      this.worker.on('message', (message: FromWorker<Result>) => {
        if (message.kind === 'batch') this.handlers.batch?.(message.buffer, message.length);
        else if (message.kind === 'return') this.handlers.returned?.(message.buffer);
        else if (message.kind === 'done') resolve(message.result);
        else reject(Object.assign(new Error(message.message), message.fields));
      });
      this.worker.once('error', reject);
      // Messages posted before the worker ended are delivered before 'exit': a settled outcome stays.
      this.worker.once('exit', (code) => reject(new Error(`${options.name} exited with code ${code} without a result`)));
    });
    // Observed here; the owner awaits it.
    this.outcome.catch(() => undefined);
    const { signal } = options;
    if (signal) {
      const onAbort = () => this.stop(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.exited.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  receive(handlers: BatchHandlers): void {
    this.handlers = handlers;
  }

  send(buffer: ArrayBuffer, length: number): void {
    this.post({ kind: 'batch', buffer, length }, [buffer]);
  }

  giveBack(buffer: ArrayBuffer): void {
    this.post({ kind: 'return', buffer }, [buffer]);
    this.wake();
  }

  /** No more batches: the worker's end handler runs. */
  end(): void {
    this.post({ kind: 'end' });
  }

  /** Rejects the outcome with reason (unless it settled) and raises the worker's stop flag. */
  stop(reason: unknown): void {
    this.rejectOutcome(reason);
    Atomics.store(this.control, STOP, 1);
    this.wake();
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private wake(): void {
    Atomics.add(this.control, WAKE, 1);
    if (Atomics.load(this.control, WAITING) !== 0) Atomics.notify(this.control, WAKE);
  }
}

/** Thrown in a worker once the main thread stopped the task; unwinding closes what it had open. */
export class WorkerStopped extends Error {}

/** The worker's side of a task. */
export class TaskPort {
  private readonly control: Int32Array;

  constructor(
    private readonly port: MessagePort,
    control: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(control);
  }

  throwIfStopped(): void {
    if (Atomics.load(this.control, STOP) !== 0) throw new WorkerStopped();
  }

  send(buffer: ArrayBuffer, length: number): void {
    this.post({ kind: 'batch', buffer, length }, [buffer]);
  }

  giveBack(buffer: ArrayBuffer): void {
    this.post({ kind: 'return', buffer }, [buffer]);
  }

  /** For a worker that takes batches: handlers run from its event loop. */
  receive(handlers: BatchHandlers): void {
    this.port.on('message', (message: ToWorker) => {
      if (message.kind === 'batch') handlers.batch?.(message.buffer, message.length);
      else if (message.kind === 'return') handlers.returned?.(message.buffer);
      else handlers.end?.();
    });
  }

  /**
   * For a worker that blocks its event loop and receives nothing but buffers given back: the next one,
   * or undefined when none came back yet.
   */
  takeReturn(): ArrayBuffer | undefined {
    const received = receiveMessageOnPort(this.port);
    return received && (received.message as Returned).buffer;
  }

  /** As takeReturn(), but sleeps until a buffer comes back; throws WorkerStopped once stopped. */
  waitForReturn(): ArrayBuffer {
    for (;;) {
      // Read before looking at the port: a return posted after this makes the wait below return at once.
      const seen = Atomics.load(this.control, WAKE);
      this.throwIfStopped();
      const returned = this.takeReturn();
      if (returned) return returned;
      Atomics.store(this.control, WAITING, 1);
      // A return posted before WAITING was set changed WAKE since `seen`: the wait then returns at once.
      Atomics.wait(this.control, WAKE, seen);
      Atomics.store(this.control, WAITING, 0);
    }
  }

  private post(message: FromWorker<never>, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transfer);
  }
}

/**
 * A worker script's entry point: runs `run` with the setup data and reports its result or failure. A
 * task that was stopped (WorkerStopped) reports nothing: its owner already knows why it ended.
 */
export function serveWorkerTask<Data, Result>(run: (data: Data, port: TaskPort) => Result | Promise<Result>): void {
  const port = parentPort;
  if (!port) return;
  const setup = workerData as TaskSetup<Data>;
  const report = (message: FromWorker<Result>) => port.postMessage(message);
  new Promise<Result>((resolve) => resolve(run(setup.data, new TaskPort(port, setup.control)))).then(
    (result) => report({ kind: 'done', result }),
    (error: unknown) => {
      if (!(error instanceof WorkerStopped)) report({ kind: 'failed', message: messageOf(error), fields: ownFields(error) });
    },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error's own fields that survive a message (code, path, errno, syscall...). */
function ownFields(error: unknown): ErrorFields {
  const fields: ErrorFields = {};
  if (typeof error !== 'object' || error === null) return fields;
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  return fields;
}
