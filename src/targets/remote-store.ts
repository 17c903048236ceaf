import type { PassThrough, Readable, Writable } from 'node:stream';

/**
 * The few file operations a remote target needs, one implementation per protocol (S3, SFTP, WebDAV).
 * Paths are `VOLUME/NAME`, relative to the target's configured root (prefix, folder). What an archive
 * needs on top of them (temporary names, the manifest last, what counts as complete) lives once, in
 * RemoteTarget.
 */
export interface StoreSession {
  /** Names in a folder; [] when the folder does not exist. */
  list(folder: string): Promise<string[]>;
  readText(path: string): Promise<string>;
  writeText(path: string, text: string): Promise<void>;
  /** No error when the file does not exist. */
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  ensureFolder(folder: string): Promise<void>;
}

export interface StoreUpload {
  /** The archive's bytes; backpressure reaches the server (nothing buffers the whole archive). */
  stream: Writable;
  /** Settles when the server holds the whole file. */
  done(): Promise<void>;
  abort(): Promise<void>;
  /**
   * Calls listener whenever the server confirms more of the upload, where the library says so (S3: each
   * part): done() may wait for parts still in flight after the last byte, and that is progress, not a stall.
   */
  onProgress?(listener: () => void): void;
}

export interface RemoteStore {
  readonly name: string;
  /**
   * True when an upload is invisible under its path until it is complete (S3: a multipart upload
   * appears only when completed), so no temporary name and rename are needed.
   */
  readonly atomicUploads: boolean;
  /** Runs fn with one connection (SFTP keeps one ssh session for a listing of many manifests). */
  session<T>(fn: (session: StoreSession) => Promise<T>): Promise<T>;
  upload(path: string): Promise<StoreUpload>;
  openRead(path: string): Promise<Readable>;
  /** Parts of uploads that died with the process and the store keeps on its own (S3 multipart parts). */
  discardStaleUploads?(folder: string): Promise<void>;
}

/**
 * An upload whose bytes a library reads from `body` while `settled` is its request: a failed request
 * destroys the body, so whatever feeds it stops instead of writing into the void.
 */
export function bodyUpload(
  body: PassThrough,
  settled: Promise<unknown>,
  cancel: () => unknown,
  onProgress?: (listener: () => void) => void,
): StoreUpload {
  settled.catch((error: unknown) => body.destroy(error as Error));
  return {
    onProgress,
    stream: body,
    done: async () => {
      await settled;
    },
    abort: async () => {
      body.destroy();
      await cancel();
      await settled.catch(() => undefined);
    },
  };
}
