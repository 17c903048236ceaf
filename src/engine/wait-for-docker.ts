import type { Logger } from '../shared/logger';
import type { DockerApi } from './docker-api';

/**
 * Resolves when the Docker API answers. At engine boot the plugin starts before the API serves, so this
 * polls in the background (backing off to 5 s) and never blocks the protocol.
 */
export async function waitForDocker(docker: DockerApi, logger: Logger, signal?: AbortSignal): Promise<void> {
  let delayMs = 250;
  let warned = false;
  for (;;) {
    try {
      await docker.ping();
      if (warned) logger.info('The Docker API answers now');
      return;
    } catch (error) {
      if (signal?.aborted) throw new Error('stopped waiting for the Docker API');
      if (!warned && delayMs >= 2_000) {
        logger.warn(`Waiting for the Docker API: ${(error as Error).message}`);
        warned = true;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}
