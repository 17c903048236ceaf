import type { DockerApi, ObjectSpec } from './docker-api';
import type { StoppedSpecs } from '../vocabulary/archive-manifest';
import type { Logger } from '../shared/logger';
import type { StopPolicy } from '../vocabulary/volume-options';
import { planQuiesce, type QuiescePlan } from './plan-quiesce';
import { redactSpec } from './redact-spec';

/**
 * Timeouts of a quiesce: STOP_TIMEOUT caps each container's own stop timeout (unset: no cap),
 * SERVICE_STOP_TIMEOUT bounds the wait for services' tasks.
 */
export interface StopTimeouts {
  stopTimeoutSeconds?: number;
  serviceStopTimeoutSeconds: number;
}

export function quiesceTimeouts(timeouts: StopTimeouts): { maxTimeoutSeconds?: number; serviceTimeoutSeconds: number } {
  return { maxTimeoutSeconds: timeouts.stopTimeoutSeconds, serviceTimeoutSeconds: timeouts.serviceStopTimeoutSeconds };
}

/**
 * Reads what the plan is made from (running containers; in Swarm mode on a manager, the services too)
 * and makes the plan.
 */
export async function planFromEngine(
  docker: DockerApi,
  input: { volume: string; policy: StopPolicy; stopLabel: string },
): Promise<QuiescePlan> {
  const [listed, swarm] = await Promise.all([docker.runningContainers(), docker.swarmInfo()]);
  // Only the attached ones need asking (an inspect each): a labelled container is stopped because its
  // label asks for it, --rm or not.
  const containers = await Promise.all(
    listed.map(async (container) =>
      container.volumes.includes(input.volume) ? { ...container, autoRemove: await docker.autoRemoves(container.id) } : container,
    ),
  );
  const services = swarm.active && swarm.manager ? await docker.listServices() : [];
  return planQuiesce({
    ...input,
    containers,
    swarm: swarm.active ? { manager: swarm.manager, services } : undefined,
  });
}

/**
 * Specs of what the plan stops, read before stopping, with credentials masked (redact-spec.ts); one that
 * cannot be read is logged and left out.
 */
export async function describeStopped(docker: DockerApi, plan: QuiescePlan, logger: Logger): Promise<StoppedSpecs> {
  const read = async (what: string, describe: () => Promise<ObjectSpec>): Promise<ObjectSpec[]> =>
    describe().then(
      (spec) => [redactSpec(spec)],
      (error: Error) => {
        logger.warn(`Could not read the definition of ${what} for the manifest: ${error.message}`);
        return [];
      },
    );
  const containers = await Promise.all(plan.stop.map((stop) => read(`container ${stop.name}`, () => docker.describeContainer(stop.id))));
  const services = await Promise.all(plan.scale.map((scale) => read(`service ${scale.name}`, () => docker.describeService(scale.id))));
  return { containers: containers.flat(), services: services.flat() };
}
