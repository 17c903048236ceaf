import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunSummary } from '../../src/runs/run-summary';

/** One post a backupvol notification made. */
export interface WebhookPost {
  path: string;
  contentType: string | undefined;
  /** The body as sent: a test of the JSON itself (that it parses at all) reads this. */
  raw: string;
  /** Parsed on access, so a body that is not JSON fails the test that reads it, not the receiver. */
  readonly body: RunSummary;
}

export interface WebhookReceiver {
  /** The URL to give NOTIFY_URLS; PATH is appended to it. */
  url(path: string): string;
  readonly received: WebhookPost[];
  close(): Promise<void>;
}

/**
 * An HTTP receiver on 127.0.0.1 (the plugin runs with host networking, so it reaches it) that answers
 * `status` and keeps every post.
 */
export async function startWebhookReceiver(status = 204): Promise<WebhookReceiver> {
  const received: WebhookPost[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        raw: text,
        get body() {
          return JSON.parse(this.raw) as RunSummary;
        },
      });
      response.writeHead(status).end();
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
