import type { ContainerFacts } from '../docker/docker-api';
import type { StopPolicy } from '../volumes/volume-options';
import { LABELS } from './labels';

export interface PlannedStop {
  id: string;
  name: string;
  /** False for containers labelled stop-during-backup-no-restart. */
  restart: boolean;
}

export interface PlannedCommand {
  containerId: string;
  containerName: string;
  command: string;
}

export interface QuiescePlan {
  stop: PlannedStop[];
  /** archive-pre commands, run before anything is stopped. */
  pre: PlannedCommand[];
  /** archive-post commands, run after everything is started again. */
  post: PlannedCommand[];
}

export class QuiesceConflictError extends Error {}

/**
 * Decides what a run stops, from the running containers alone. Pure, so every rule is unit-tested.
 * archive-pre/post commands run on every concerned container even with backup-stop=none: a database dump
 * is worth having in a live backup too.
 */
export function planQuiesce(input: {
  volume: string;
  policy: StopPolicy;
  stopLabel: string;
  containers: ContainerFacts[];
}): QuiescePlan {
  const { volume, policy, stopLabel, containers } = input;
  const stop: PlannedStop[] = [];
  const concerned: ContainerFacts[] = [];
  for (const container of containers.filter((candidate) => candidate.running)) {
    const restartLabel = container.labels[LABELS.stop] === stopLabel;
    const noRestartLabel = container.labels[LABELS.stopNoRestart] === stopLabel;
    if (restartLabel && noRestartLabel) {
      throw new QuiesceConflictError(
        `container ${container.name} has both ${LABELS.stop}=${stopLabel} and ${LABELS.stopNoRestart}=${stopLabel}; ` +
          'keep one of them. Nothing was stopped.',
      );
    }
    const attached = container.volumes.includes(volume);
    const labelled = restartLabel || noRestartLabel;
    if (!attached && !labelled) continue;
    concerned.push(container);
    const stops = policy === 'attached' || (policy === 'labelled' && labelled);
    if (stops) stop.push({ id: container.id, name: container.name, restart: !noRestartLabel });
  }
  return {
    stop,
    pre: commandsFor(concerned, LABELS.archivePre),
    post: commandsFor(concerned, LABELS.archivePost),
  };
}

function commandsFor(containers: ContainerFacts[], label: string): PlannedCommand[] {
  return containers
    .filter((container) => (container.labels[label] ?? '').trim() !== '')
    .map((container) => ({ containerId: container.id, containerName: container.name, command: container.labels[label] }));
}
