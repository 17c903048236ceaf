import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import { isKnownHostKey } from './known-hosts';
import type { RemoteStore, StoreSession, StoreUpload } from './remote-store';
import type { SftpSettings } from '../settings/target-settings';
import { DEFAULT_TIMEOUTS } from '../settings/settings';

/** An unreachable or silent server fails the run after this long instead of hanging it. */
const CONNECT_TIMEOUT_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;

/** SFTP with a password or a key; the server's host key is checked when SFTP_KNOWN_HOSTS is given. */
export class SftpStore implements RemoteStore {
  readonly name = 'sftp';
  readonly atomicUploads = false;

  constructor(
    private readonly settings: SftpSettings,
    /** TRANSFER_STALL_TIMEOUT in ms. */
    private readonly stallMs: number = DEFAULT_TIMEOUTS.transferStallSeconds * 1000,
  ) {}

  async session<T>(fn: (session: StoreSession) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await fn(this.sessionOf(client));
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async upload(path: string): Promise<StoreUpload> {
    const client = await this.connect();
    const stream = client.createWriteStream(this.remote(path)) as Writable;
    const closed = settledOnClose(stream);
    // The server may refuse the file before anyone waits for the upload to end (a folder it may not
    // write to): that rejection is reported by done() or abort(), not left unhandled (which ends the plugin).
    closed.catch(() => undefined);
    const end = () => client.end().catch(() => undefined);
    return {
      stream,
      done: () => closed.finally(end),
      abort: async () => {
        stream.destroy();
        await closed.catch(() => undefined);
        await end();
      },
    };
  }

  async openRead(path: string): Promise<Readable> {
    const client = await this.connect();
    try {
      // Fails here, not mid-stream, for an archive that is not there.
      await client.stat(this.remote(path));
      const stream = client.createReadStream(this.remote(path)) as Readable;
      stream.once('close', () => void client.end().catch(() => undefined));
      return stream;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async connect(): Promise<SftpClient> {
    const { host, port, user, password, privateKey, knownHosts } = this.settings;
    const client = new SftpClient('backupvol');
    let refusedKey = false;
    try {
      await client.connect({
        host,
        port,
        username: user,
        password,
        privateKey,
        readyTimeout: Math.min(CONNECT_TIMEOUT_MS, this.stallMs),
        retries: 0,
        // ssh2's own bound on silence: a server that answers none of its keepalive pings for 1.5 to 2 times
        // TRANSFER_STALL_TIMEOUT has its connection closed. RemoteTarget fails the operation first, with
        // a clearer message; this frees the connection that the hung operation still holds.
        keepaliveInterval: Math.max(1_000, Math.floor(this.stallMs / 2)),
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        hostVerifier: knownHosts
          ? (key: Buffer) => {
              const known = isKnownHostKey(knownHosts, host, port, key);
              refusedKey = !known;
              return known;
            }
          : undefined,
      } as SftpClient.ConnectOptions);
    } catch (error) {
      await client.end().catch(() => undefined);
      if (refusedKey) throw new Error(`the host key of ${host}:${port} is not in SFTP_KNOWN_HOSTS`);
      throw error;
    }
    // SFTP writes wait for each other's answers: with Nagle's algorithm on, every one of them waited for a
    // delayed ACK too, and uploads crawled at ~2 MB/s on loopback (measured: 25 MB in 13 s, 0.5 s without).
    // (The ssh2 connection is `client` on ssh2-sftp-client, public in its code but not in its types.)
    (client as unknown as { client: { setNoDelay(noDelay: boolean): void } }).client.setNoDelay(true);
    return client;
  }

  private remote(path: string): string {
    return posix.join(this.settings.path, path);
  }

  private sessionOf(client: SftpClient): StoreSession {
    return {
      list: async (folder) => {
        if (!(await client.exists(this.remote(folder)))) return [];
        return (await client.list(this.remote(folder))).map((entry) => entry.name);
      },
      readText: async (path) => ((await client.get(this.remote(path))) as Buffer).toString('utf8'),
      writeText: async (path, text) => {
        await client.put(Buffer.from(text), this.remote(path));
      },
      remove: async (path) => {
        await client.delete(this.remote(path), true);
      },
      rename: async (from, to) => {
        await client.rename(this.remote(from), this.remote(to));
      },
      ensureFolder: async (folder) => {
        if (!(await client.exists(this.remote(folder)))) await client.mkdir(this.remote(folder), true);
      },
    };
  }
}

/**
 * Resolves when a write stream closed after it was ended, rejects with its error. ssh2's stream closes
 * its handle in _final, so 'close' can come before (or instead of) 'finish'; close reports the handle closed.
 */
function settledOnClose(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let finished = false;
    stream.once('error', (error: Error) => (failure = error));
    stream.once('finish', () => (finished = true));
    stream.once('close', () => {
      if (failure) reject(failure);
      else if (finished || stream.writableEnded) resolve();
      else reject(new Error('upload closed before it finished'));
    });
  });
}
