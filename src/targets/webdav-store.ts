import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { WebDAVClient } from 'webdav' with { 'resolution-mode': 'import' };
import { bodyUpload, type RemoteStore, type StoreSession, type StoreUpload } from './remote-store';
import type { WebdavSettings } from '../settings/target-settings';

/** The webdav client is an ES module; this plugin is CommonJS, so it is loaded on first use. */
const loadWebdav = () => import('webdav');

/** WebDAV with basic auth: PUT under a temporary name, MOVE once complete. */
export class WebdavStore implements RemoteStore {
  readonly name = 'webdav';
  readonly atomicUploads = false;
  private client?: Promise<WebDAVClient>;

  constructor(private readonly settings: WebdavSettings) {
  }

  async session<T>(fn: (session: StoreSession) => Promise<T>): Promise<T> {
    return fn(this.sessionOf(await this.connect()));
  }

  async upload(path: string): Promise<StoreUpload> {
    const client = await this.connect();
    const body = new PassThrough();
    const aborter = new AbortController();
    // No Content-Length: the archive's size is known only at its end, so the body goes chunked.
    const put = client.putFileContents(this.remote(path), body, { overwrite: true, contentLength: false, signal: aborter.signal });
    return bodyUpload(body, put, () => aborter.abort());
  }

  async openRead(path: string): Promise<Readable> {
    const client = await this.connect();
    // Fails here, not mid-stream, for an archive that is not there.
    await client.stat(this.remote(path));
    return client.createReadStream(this.remote(path)) as unknown as Readable;
  }

  private connect(): Promise<WebDAVClient> {
    this.client ??= loadWebdav().then(({ createClient, AuthType }) =>
      createClient(this.settings.url, {
        authType: this.settings.username ? AuthType.Password : AuthType.None,
        username: this.settings.username,
        password: this.settings.password,
      }),
    );
    return this.client;
  }

  private remote(path: string): string {
    return posix.join('/', this.settings.path, path);
  }

  private sessionOf(client: WebDAVClient): StoreSession {
    return {
      list: async (folder) => {
        if (!(await client.exists(this.remote(folder)))) return [];
        const entries = (await client.getDirectoryContents(this.remote(folder))) as Array<{ basename: string }>;
        return entries.map((entry) => entry.basename);
      },
      readText: async (path) => (await client.getFileContents(this.remote(path), { format: 'text' })) as string,
      writeText: async (path, text) => {
        await client.putFileContents(this.remote(path), text, { overwrite: true });
      },
      remove: async (path) => {
        try {
          await client.deleteFile(this.remote(path));
        } catch (error) {
          if ((error as { status?: number }).status !== 404) throw error;
        }
      },
      rename: (from, to) => client.moveFile(this.remote(from), this.remote(to), { overwrite: true }),
      ensureFolder: async (folder) => {
        if (!(await client.exists(this.remote(folder)))) await client.createDirectory(this.remote(folder), { recursive: true });
      },
    };
  }
}
