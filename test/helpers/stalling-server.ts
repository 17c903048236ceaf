import { connect, createServer, type Socket } from 'node:net';

export interface StallingServer {
  host: string;
  port: number;
  /** Connections that have gone silent so far. */
  readonly stalled: number;
  close(): Promise<void>;
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and then goes silent: it sends nothing and stops
 * reading, so the client's writes fill the socket buffers and wait, as with a server that hung.
 *
 * With `upstream`, it first forwards each connection to that real server and goes silent only once the
 * client sent more than `stallAfterBytes` on it: the small requests that open a run (listings, the bucket
 * check) are answered and the run stops its containers; the archive's upload then hangs mid-way.
 * Without, every connection is silent from the start.
 */
export async function startStallingServer(options: { upstream?: { host: string; port: number }; stallAfterBytes?: number } = {}): Promise<StallingServer> {
  const sockets = new Set<Socket>();
  const limit = options.upstream ? (options.stallAfterBytes ?? 0) : 0;
  let stalled = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (!options.upstream) {
      stalled += 1;
      client.pause();
      return;
    }
    const upstream = connect(options.upstream.port, options.upstream.host);
    track(upstream);
    let sent = 0;
    let silent = false;
    client.on('data', (chunk: Buffer) => {
      if (silent) return;
      sent += chunk.length;
      if (sent > limit) {
        // From here on nothing moves either way; the connection stays open until close().
        silent = true;
        stalled += 1;
        client.pause();
        upstream.pause();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (!silent) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    host: '127.0.0.1',
    port: address.port,
    get stalled() {
      return stalled;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
