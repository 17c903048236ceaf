import { setTimeout as delay } from 'node:timers/promises';
import type { DockerApi } from './docker-api';
import type { Logger } from '../shared/logger';
import { bringBack } from './bring-back';
import type { StopJournal } from './stop-journal';

/** Waits between the attempts at start: an engine that has just come back may refuse for a while. */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000];

/**
 * After a plugin that died mid-run comes back: bring back what that run stopped (except no-restart
 * containers and services), scaling services back to the replica count the journal kept. What fails is
 * tried again after each of `retryDelaysMs`; what still fails then stays in the journal (main.ts hands it
 * to the BringBackRetrier) and is logged as an error. Call once the Docker API answers, without holding up the plugin's socket: the
 * retries take a while.
 */
export async function restartJournaledContainers(
  docker: DockerApi,
  journal: StopJournal,
  logger: Logger,
  retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<void> {
  const entries = await journal.pending();
  await Promise.all(
    entries.map(async ({ volume, stoppedAt, containers, services }) => {
      logger.warn(`A run on volume ${volume} was interrupted at ${stoppedAt}; bringing back what it stopped`);
      let outcome = await bringBack({ docker, journal, volume, stops: containers, scales: services ?? [], logger });
      for (const wait of retryDelaysMs) {
        if (outcome.failures.length === 0) return;
        logger.warn(`Could not yet bring back ${outcome.failures.join('; ')}; trying again in ${wait / 1000} s`);
        await delay(wait);
        outcome = await bringBack({ docker, journal, volume, ...outcome.left, logger });
      }
      for (const failure of outcome.failures) {
        logger.error(`Could not bring back ${failure} for volume ${volume}; it stays in the journal`);
      }
    }),
  );
}
