import type { DockerApi } from './docker-api';
import { waitForDocker } from './wait-for-docker';
import type { Logger } from '../shared/logger';
import { restartJournaledContainers } from './restart-journaled';
import type { StopJournal } from './stop-journal';

/**
 * The engine gives a starting plugin about 12 s to open its socket before it gives up on it (and then
 * stops it): the replay of a start that failed must end well within that.
 */
const FAILED_START_BUDGET_MS = 9_000;

/**
 * A start that failed (a bad setting, unreadable state) must not also leave the containers of a run
 * killed earlier stopped until someone fixes the setting: what the journal holds is brought back, as a
 * normal start would, within a short budget. What does not come back stays in the journal.
 */
export async function replayAfterFailedStart(input: {
  docker: DockerApi;
  journal: StopJournal;
  logger: Logger;
  budgetMs?: number;
  retryDelaysMs?: readonly number[];
}): Promise<void> {
  const { docker, journal, logger } = input;
  const budget = AbortSignal.timeout(input.budgetMs ?? FAILED_START_BUDGET_MS);
  const replay = (async () => {
    if ((await journal.pending()).length === 0) return;
    await waitForDocker(docker, logger, budget);
    await restartJournaledContainers(docker, journal, logger, input.retryDelaysMs ?? [1_000, 2_000]);
  })();
  const outOfTime = new Promise<void>((resolve) => budget.addEventListener('abort', () => resolve(), { once: true }));
  try {
    await Promise.race([replay, outOfTime]);
    if (budget.aborted) logger.error('Ran out of time bringing back what an interrupted run stopped; the journal keeps it for the next start');
  } catch (error) {
    logger.error(`Could not bring back what an interrupted run stopped: ${(error as Error).message}`);
  }
}
