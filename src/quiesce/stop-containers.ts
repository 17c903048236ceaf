import type { DockerApi } from '../docker/docker-api';
import type { Logger } from '../logging/logger';
import type { PlannedCommand, PlannedStop } from './plan-quiesce';
import type { StopJournal } from './stop-journal';

/** Starts again exactly what a stop stopped. */
export type Resume = () => Promise<void>;

/**
 * Stops the planned containers together (downtime is the slowest stop, not the sum) and returns the undo.
 * The journal is written first; if any container refuses to stop, the ones already stopped are started
 * again before the error is thrown.
 */
export async function stopContainers(input: {
  docker: DockerApi;
  journal: StopJournal;
  volume: string;
  stops: PlannedStop[];
  timeoutSeconds: number;
  logger: Logger;
}): Promise<Resume> {
  const { docker, journal, volume, stops, timeoutSeconds, logger } = input;
  if (stops.length === 0) return async () => undefined;
  await journal.record(volume, stops);
  const resume: Resume = async () => {
    const toStart = stops.filter((stop) => stop.restart);
    logger.info(`Starting ${toStart.length} container(s) for volume ${volume}: ${names(toStart)}`);
    const results = await Promise.allSettled(toStart.map((stop) => docker.startContainer(stop.id)));
    await journal.clear(volume);
    const failures = failuresOf(toStart, results);
    if (failures.length > 0) throw new Error(`could not start container(s) again: ${failures.join('; ')}`);
    logger.info(`Started container(s) for volume ${volume}`);
  };

  logger.info(`Stopping ${stops.length} container(s) for volume ${volume}: ${names(stops)}`);
  const results = await Promise.allSettled(stops.map((stop) => docker.stopContainer(stop.id, timeoutSeconds)));
  const failures = failuresOf(stops, results);
  if (failures.length > 0) {
    const stopError = new Error(`container(s) refused to stop: ${failures.join('; ')}`);
    await resume().catch((error: Error) => logger.error(`After a failed stop, ${error.message}`));
    throw stopError;
  }
  logger.info(`Stopped container(s) for volume ${volume}`);
  return resume;
}

/** Runs archive-pre or archive-post commands one after another; the first failure throws. */
export async function runLabelCommands(input: {
  docker: DockerApi;
  commands: PlannedCommand[];
  phase: 'archive-pre' | 'archive-post';
  logger: Logger;
}): Promise<void> {
  for (const { containerId, containerName, command } of input.commands) {
    input.logger.info(`Running ${input.phase} command in container ${containerName}`);
    const result = await input.docker.exec(containerId, command);
    if (result.exitCode !== 0) {
      const output = result.output ? `: ${result.output.slice(-500)}` : '';
      throw new Error(`${input.phase} command in container ${containerName} exited with ${result.exitCode}${output}`);
    }
    input.logger.info(`Ran ${input.phase} command in container ${containerName}`);
  }
}

function names(stops: PlannedStop[]): string {
  return stops.map((stop) => stop.name).join(', ');
}

function failuresOf(stops: PlannedStop[], results: PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${stops[index].name}: ${(result.reason as Error).message}`] : [],
  );
}
