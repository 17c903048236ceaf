import type { ContainerFacts, ServiceFacts } from './docker-api';
import type { StopPolicy } from '../vocabulary/volume-options';

export interface PlannedStop {
  id: string;
  name: string;
  /** False for containers labelled stop-during-backup-no-restart. */
  restart: boolean;
  /**
   * Set for a Swarm task container stopped directly (its service was not scaled): Swarm does not let a
   * task container be started again, so its service is force-updated instead.
   */
  serviceId?: string;
}

/** A replicated Swarm service scaled to 0 for the snapshot and back to `replicas` after. */
export interface PlannedScale {
  id: string;
  name: string;
  replicas: number;
  /** False for services labelled stop-during-backup-no-restart: they stay at 0. */
  restart: boolean;
}

/** What the plan needs to know of Swarm; undefined when this node is not in a swarm. */
export interface SwarmView {
  manager: boolean;
  /** Empty on a worker, which cannot list services. */
  services: ServiceFacts[];
}

export interface PlannedCommand {
  containerId: string;
  containerName: string;
  command: string;
}

export interface QuiescePlan {
  stop: PlannedStop[];
  scale: PlannedScale[];
  /** archive-pre commands, run before anything is stopped. */
  pre: PlannedCommand[];
  /** archive-post commands, run after everything is started again. */
  post: PlannedCommand[];
}

/** Label names shared with offen/docker-volume-backup, so existing stacks work unchanged. */
export const LABELS = {
  stop: 'docker-volume-backup.stop-during-backup',
  stopNoRestart: 'docker-volume-backup.stop-during-backup-no-restart',
  archivePre: 'docker-volume-backup.archive-pre',
  archivePost: 'docker-volume-backup.archive-post',
} as const;

/** Set by Swarm on its task containers. */
export const SERVICE_LABEL = 'com.docker.swarm.service.id';

/**
 * Decides what a run stops, from the running containers (and, in Swarm mode, the services) alone. Pure, so every rule is unit-tested.
 * archive-pre/post commands run on every concerned container even with backup-stop=none: a database dump
 * is worth having in a live backup too.
 */
export function planQuiesce(input: {
  volume: string;
  policy: StopPolicy;
  stopLabel: string;
  containers: ContainerFacts[];
  swarm?: SwarmView;
}): QuiescePlan {
  const { volume, policy, stopLabel, containers, swarm } = input;
  const stop: PlannedStop[] = [];
  const scale = new Map<string, PlannedScale>();
  const concerned: ContainerFacts[] = [];
  const services = new Map((swarm?.services ?? []).map((service) => [service.id, service]));
  const serviceLabels = new Map([...services.values()].map((service) => [service.id, stopLabelsOf('service', service, stopLabel)]));
  // A service already at 0 replicas (another run, on another volume, scaled it down) is left alone, as a
  // stopped container is: this run would otherwise "bring it back" to 0 after that run scaled it up again.
  const scaleOnce = (service: ServiceFacts, restart: boolean, why: string): void => {
    const planned = scalable(service, restart, why);
    if (planned.replicas > 0 && !scale.has(service.id)) scale.set(service.id, planned);
  };

  if (policy !== 'none') {
    for (const service of services.values()) {
      const labels = serviceLabels.get(service.id);
      if (labels?.labelled) scaleOnce(service, !labels.noRestart, 'is labelled');
    }
  }

  for (const container of containers.filter((candidate) => candidate.running)) {
    const labels = stopLabelsOf('container', container, stopLabel);
    const attached = container.volumes.includes(volume);
    if (!attached && !labels.labelled) continue;
    concerned.push(container);
    const serviceId = container.labels[SERVICE_LABEL];
    const stops = policy === 'attached' || (policy === 'labelled' && labels.labelled);
    if (!stops) continue;
    if (container.autoRemove && !labels.labelled) throw autoRemoveError(container, stopLabel);
    if (serviceId === undefined) {
      stop.push({ id: container.id, name: container.name, restart: !labels.noRestart });
      continue;
    }
    if (!swarm?.manager) throw workerNodeError(container);
    const service = services.get(serviceId);
    if (labels.labelled && serviceLabels.get(serviceId)?.labelled) {
      throw new Error(
        `container ${container.name} and its service ${service?.name ?? serviceId} are both labelled ${LABELS.stop}; ` +
          'label only the service (it is scaled to 0) or only the container (it is stopped directly). Nothing was stopped.',
      );
    }
    if (labels.labelled || !service) {
      // Labelled task container of an unlabelled service: stopped directly, brought back by its service.
      stop.push({ id: container.id, name: container.name, restart: !labels.noRestart, serviceId });
    } else {
      scaleOnce(service, true, `mounts volume ${volume}`);
    }
  }
  // A scaled service's task containers are gone after the snapshot: archive-post has nowhere to run there.
  // Decided from the services scaled, not per container, since a task that does not stop on its own
  // (with backup-stop=labelled, an unlabelled one) goes with its service all the same.
  const remaining = concerned.filter((container) => {
    const serviceId = container.labels[SERVICE_LABEL];
    return serviceId === undefined || !scale.has(serviceId);
  });
  return {
    stop,
    scale: [...scale.values()],
    pre: commandsFor(concerned, LABELS.archivePre),
    post: commandsFor(remaining, LABELS.archivePost),
  };
}

/** Which offen stop labels a container or service carries for this volume's label value. */
function stopLabelsOf(
  kind: 'container' | 'service',
  subject: { name: string; labels: Record<string, string> },
  stopLabel: string,
): { labelled: boolean; noRestart: boolean } {
  const restart = subject.labels[LABELS.stop] === stopLabel;
  const noRestart = subject.labels[LABELS.stopNoRestart] === stopLabel;
  if (restart && noRestart) {
    throw new Error(
      `${kind} ${subject.name} has both ${LABELS.stop}=${stopLabel} and ${LABELS.stopNoRestart}=${stopLabel}; ` +
        'keep one of them. Nothing was stopped.',
    );
  }
  return { labelled: restart || noRestart, noRestart };
}

function scalable(service: ServiceFacts, restart: boolean, why: string): PlannedScale {
  if (service.mode !== 'replicated') {
    throw new Error(
      `service ${service.name} ${why} but is a ${service.mode}-mode service, which cannot be scaled to 0; ` +
        'make it replicated, remove the label, or use backup-stop=none. Nothing was stopped.',
    );
  }
  return { id: service.id, name: service.name, replicas: service.replicas, restart };
}

function autoRemoveError(container: ContainerFacts, stopLabel: string): Error {
  return new Error(
    `container ${container.name} mounts the volume and was started with --rm: stopping it would remove it, and ` +
      `nothing could start it again. Label it ${LABELS.stop}=${stopLabel} to have it stopped (and gone) anyway, ` +
      'start it without --rm, or use backup-stop=labelled or none. Nothing was stopped.',
  );
}

function workerNodeError(container: ContainerFacts): Error {
  return new Error(
    `container ${container.name} is a task of a Swarm service, and this node is a Swarm worker: services can only ` +
      'be scaled from a manager. Back this volume up from a manager node, use backup-stop=none, or run the ' +
      'writer as a plain container. Nothing was stopped.',
  );
}

function commandsFor(containers: ContainerFacts[], label: string): PlannedCommand[] {
  return containers
    .filter((container) => (container.labels[label] ?? '').trim() !== '')
    .map((container) => ({ containerId: container.id, containerName: container.name, command: container.labels[label] }));
}
