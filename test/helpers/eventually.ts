import { setTimeout as sleep } from 'node:timers/promises';

/** Polls CHECK until it returns true or TIMEOUT_MS passes; the last error is in the failure. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
      last = 'condition false';
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not true within ${timeoutMs / 1000}s (${last})`);
}
