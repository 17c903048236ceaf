import { mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:http';

/** Listens on a unix socket, replacing a stale socket file a previous run left behind. */
export async function listenOnUnixSocket(socketPath: string, handler: RequestListener): Promise<Server> {
  await mkdir(dirname(socketPath), { recursive: true });
  await rm(socketPath, { force: true });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
