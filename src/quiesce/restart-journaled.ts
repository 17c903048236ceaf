import type { DockerApi } from '../docker/docker-api';
import type { Logger } from '../logging/logger';
import type { StopJournal } from './stop-journal';

/**
 * After a plugin that died mid-run comes back: start what that run stopped (except no-restart
 * containers) and forget the journal. Call once the Docker API answers.
 */
export async function restartJournaledContainers(docker: DockerApi, journal: StopJournal, logger: Logger): Promise<void> {
  for (const entry of await journal.pending()) {
    const toStart = entry.containers.filter((container) => container.restart);
    logger.warn(
      `A backup of volume ${entry.volume} was interrupted at ${entry.stoppedAt}; starting ${toStart.length} container(s) it stopped`,
    );
    for (const container of toStart) {
      await docker.startContainer(container.id).then(
        () => logger.info(`Started container ${container.name} again`),
        (error: Error) => logger.error(`Could not start container ${container.name} again: ${error.message}`),
      );
    }
    await journal.clear(entry.volume);
  }
}
