import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a backupvol notification carries (the fields tests look at). */
export interface WebhookPost {
  path: string;
  body: { volume: string; result: string; error: string | null; text: string; content: string };
}

export interface WebhookReceiver {
  /** The URL to give NOTIFY_URLS; PATH is appended to it. */
  url(path: string): string;
  readonly received: WebhookPost[];
  close(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 (the plugin runs with host networking, so it reaches it), keeping every post. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookPost[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(text) as WebhookPost['body'] });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
