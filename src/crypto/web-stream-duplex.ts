import { Duplex } from 'node:stream';

/** A library transform over web streams: given the plaintext (or ciphertext) stream, the output stream. */
export type WebTransform = (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>;

/**
 * Turns a web-stream transform (openpgp's and age-encryption's streaming APIs) into a Node Duplex that
 * fits in a stream pipeline. Hand-made rather than Readable.toWeb/fromWeb so that backpressure holds on
 * both sides: a write completes only once the library pulled the chunk before it, and the library's
 * output is read only as fast as the next stage takes it. Memory is a few chunks, whatever the archive.
 */
export class WebStreamDuplex extends Duplex {
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private pendingWrite: (() => void) | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private pumping = false;
  private readonly output: Promise<ReadableStream<Uint8Array>>;

  /** `explain` rewrites the library's own errors (not those of the stages around it) into the caller's terms. */
  constructor(
    transform: WebTransform,
    private readonly explain: (error: Error) => Error = (error) => error,
  ) {
    super();
    const input = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.resumeWrite(),
        cancel: (reason: unknown) => {
          // The library stopped reading before the end (e.g. a bad header): nothing more can be written.
          this.fail(reason instanceof Error ? reason : new Error(String(reason ?? 'input cancelled')));
        },
      },
      { highWaterMark: 2 },
    );
    this.output = transform(input);
    this.output.catch((error: unknown) => this.fail(error as Error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const controller = this.controller as ReadableStreamDefaultController<Uint8Array>;
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) > 0) callback();
    else this.pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.controller?.close();
    callback();
  }

  override _read(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const reason = error ?? new Error('stream destroyed');
    try {
      this.controller?.error(reason);
    } catch {
      // Already closed or errored.
    }
    this.pendingWrite = undefined;
    void this.reader?.cancel(reason).catch(() => undefined);
    callback(error);
  }

  private resumeWrite(): void {
    const resume = this.pendingWrite;
    this.pendingWrite = undefined;
    resume?.();
  }

  /** Moves output chunks into the readable side until it is full (then _read starts it again) or done. */
  private async pump(): Promise<void> {
    try {
      this.reader ??= (await this.output).getReader();
      for (;;) {
        const { done, value } = await this.reader.read();
        if (this.destroyed) return;
        if (done) {
          this.push(null);
          return;
        }
        const more = this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        if (!more) {
          this.pumping = false;
          return;
        }
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    if (!this.destroyed) this.destroy(this.explain(error));
  }
}
