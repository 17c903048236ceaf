import { NoSuchObjectError, type DockerApi } from './docker-api';
import type { Logger } from '../shared/logger';
import type { PlannedScale, PlannedStop } from './plan-quiesce';
import type { StopJournal } from './stop-journal';

/** What a bring-back could not bring back: still stopped, or still at 0 replicas. */
export interface LeftDown {
  stops: PlannedStop[];
  scales: PlannedScale[];
}

/**
 * Undoes a quiesce: starts the restartable containers, asks Swarm to replace task containers that were
 * stopped directly (a task container cannot be started by hand), and scales services back to their former
 * replica count. Everything is attempted. The journal then keeps only what is left down, so that nothing
 * that failed to come back is forgotten; the failures are returned, one message each. What was removed
 * meanwhile (a container or service the engine no longer knows) is not a failure: nothing can bring it
 * back, and keeping it would retry it at every start.
 */
export async function bringBack(input: {
  docker: DockerApi;
  journal: StopJournal;
  volume: string;
  stops: PlannedStop[];
  scales: PlannedScale[];
  logger: Logger;
}): Promise<{ failures: string[]; left: LeftDown; gone: string[] }> {
  const { docker, journal, volume, logger } = input;
  const restartable = input.stops.filter((stop) => stop.restart);
  const tasksOf = new Map<string, PlannedStop[]>();
  for (const stop of restartable) {
    if (stop.serviceId !== undefined) tasksOf.set(stop.serviceId, [...(tasksOf.get(stop.serviceId) ?? []), stop]);
  }
  const work = [
    ...restartable
      .filter((stop) => stop.serviceId === undefined)
      .map((stop) => ({ what: `container ${stop.name}`, done: docker.startContainer(stop.id), stops: [stop], scales: [] })),
    ...[...tasksOf].map(([serviceId, tasks]) => ({
      what: `the service of container ${tasks.map((task) => task.name).join(', ')}`,
      done: docker.forceUpdateService(serviceId),
      stops: tasks,
      scales: [],
    })),
    ...input.scales
      .filter((scale) => scale.restart)
      .map((scale) => ({
        what: `service ${scale.name} (back to ${scale.replicas})`,
        done: docker.scaleService(scale.id, scale.replicas),
        stops: [],
        scales: [scale],
      })),
  ];
  if (work.length > 0) logger.info(`Bringing back for volume ${volume}: ${work.map((item) => item.what).join(', ')}`);
  const gone: string[] = [];
  const failed = (await failedWork(work)).filter((failure) => {
    if (!(failure.reason instanceof NoSuchObjectError)) return true;
    logger.warn(`Nothing to bring back for volume ${volume}: ${failure.work.what} no longer exists (removed since it was stopped)`);
    gone.push(failure.work.what);
    return false;
  });
  const left: LeftDown = { stops: failed.flatMap(({ work }) => work.stops), scales: failed.flatMap(({ work }) => work.scales) };
  // No-restart items are done too: they are meant to stay down.
  await journal.forget(
    volume,
    input.stops.filter((stop) => !left.stops.includes(stop)),
    input.scales.filter((scale) => !left.scales.includes(scale)),
  );
  return { failures: failed.map(({ message }) => message), left, gone };
}

/** Quiesce work under way, named for the messages. */
export interface Work {
  what: string;
  done: Promise<unknown>;
}

/**
 * Waits for all of the work, not only until the first failure (each piece stops or brings back something
 * the user runs), and returns the pieces that failed, each with a message that names it and says why.
 */
export async function failedWork<W extends Work>(work: W[]): Promise<{ work: W; message: string; reason: unknown }[]> {
  const results = await Promise.allSettled(work.map((item) => item.done));
  return results.flatMap((result, index) =>
    result.status === 'rejected'
      ? [{ work: work[index], message: `${work[index].what}: ${(result.reason as Error).message}`, reason: result.reason as unknown }]
      : [],
  );
}
