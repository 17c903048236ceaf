import type { DockerApi } from '../docker/docker-api';
import type { Logger } from '../logging/logger';
import { bringBack } from './bring-back';
import type { StopJournal } from './stop-journal';

/**
 * After a plugin that died mid-run comes back: bring back what that run stopped (except no-restart
 * containers and services), scaling services back to the replica count the journal kept, and forget the
 * journal. Call once the Docker API answers.
 */
export async function restartJournaledContainers(docker: DockerApi, journal: StopJournal, logger: Logger): Promise<void> {
  for (const entry of await journal.pending()) {
    logger.warn(`A run on volume ${entry.volume} was interrupted at ${entry.stoppedAt}; bringing back what it stopped`);
    const failures = await bringBack({
      docker,
      volume: entry.volume,
      stops: entry.containers,
      scales: entry.services ?? [],
      logger,
    });
    for (const failure of failures) logger.error(`Could not bring back ${failure}`);
    await journal.clear(entry.volume);
  }
}
