import type { DockerApi } from '../docker/docker-api';
import type { Logger } from '../logging/logger';
import type { PlannedScale, PlannedStop } from './plan-quiesce';

/**
 * Undoes a quiesce: starts the restartable containers, asks Swarm to replace task containers that were
 * stopped directly (a task container cannot be started by hand), and scales services back to their former
 * replica count. Everything is attempted; the failures are returned, one message each.
 */
export async function bringBack(input: {
  docker: DockerApi;
  volume: string;
  stops: PlannedStop[];
  scales: PlannedScale[];
  logger: Logger;
}): Promise<string[]> {
  const { docker, volume, logger } = input;
  const restartable = input.stops.filter((stop) => stop.restart);
  const plain = restartable.filter((stop) => stop.serviceId === undefined);
  const replacedBy = new Map(restartable.flatMap((stop) => (stop.serviceId ? [[stop.serviceId, stop.name] as const] : [])));
  const scales = input.scales.filter((scale) => scale.restart);
  const work: { what: string; done: Promise<unknown> }[] = [
    ...plain.map((stop) => ({ what: `container ${stop.name}`, done: docker.startContainer(stop.id) })),
    ...[...replacedBy].map(([serviceId, name]) => ({
      what: `the service of container ${name}`,
      done: docker.forceUpdateService(serviceId),
    })),
    ...scales.map((scale) => ({
      what: `service ${scale.name} (back to ${scale.replicas})`,
      done: docker.scaleService(scale.id, scale.replicas),
    })),
  ];
  if (work.length === 0) return [];
  logger.info(`Bringing back for volume ${volume}: ${work.map((item) => item.what).join(', ')}`);
  const results = await Promise.allSettled(work.map((item) => item.done));
  return results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${work[index].what}: ${(result.reason as Error).message}`] : [],
  );
}
