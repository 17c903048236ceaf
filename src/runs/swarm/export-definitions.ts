import type { DockerApi, SwarmDefinitionsApi, SwarmInfo } from '../../engine/docker-api';
import { redactSpec } from '../../engine/redact-spec';
import { SWARM_DEFINITIONS_FORMAT, type ServiceDefinition, type SwarmDefinitions } from '../../vocabulary/swarm-definitions';
import { requireManager } from './require-manager';

export interface SwarmSources {
  docker: Pick<DockerApi, 'swarmInfo'>;
  definitions: SwarmDefinitionsApi;
  /**
   * Services that a backup run holds at 0 replicas right now, with the count it brings them back to (the
   * stop journal): an export made meanwhile keeps that count, not the 0.
   */
  heldReplicas(): Promise<ReadonlyMap<string, number>>;
}

/**
 * The cluster's definitions as one document. Service specs and labels are masked as manifests mask them
 * (redact-spec.ts), environment values were left out already; config data is kept (recreate needs it, and
 * Swarm keeps secrets, not configs, for what is secret). `known`: the node's Swarm membership when the
 * caller has just asked for it.
 */
export async function exportSwarmDefinitions(sources: SwarmSources, now: Date = new Date(), known?: SwarmInfo): Promise<SwarmDefinitions> {
  const info = known ?? (await sources.docker.swarmInfo());
  requireManager(info, 'backupvol swarm export');
  const { definitions } = sources;
  const [networks, configs, secrets, services, held] = await Promise.all([
    definitions.networks(),
    definitions.configs(),
    definitions.secrets(),
    definitions.services(),
    sources.heldReplicas(),
  ]);
  const networkNames = new Map(networks.map((network) => [network.id, network.name]));
  return {
    format: SWARM_DEFINITIONS_FORMAT,
    version: 1,
    exportedAt: now.toISOString(),
    node: info.nodeName,
    networks: networks.map((network) => ({ ...network, spec: redactSpec(network.spec) })),
    configs: configs.map((config) => ({ ...config, spec: { ...config.spec, Labels: maskedLabels(config.spec.Labels) } })),
    secrets: secrets.map((secret) => ({ ...secret, labels: maskedLabels(secret.labels) })),
    services: services.map((service) => ({ ...service, spec: redactSpec(portableSpec(service, networkNames, held.get(service.id))) })),
  };
}

function maskedLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return (redactSpec({ Labels: labels ?? {} }) as { Labels: Record<string, string> }).Labels;
}

/** The spec with network names for IDs (they differ in a new cluster) and the replicas a run holds back. */
function portableSpec(service: ServiceDefinition, networkNames: ReadonlyMap<string, string>, heldReplicas: number | undefined): Record<string, unknown> {
  const spec = structuredClone(service.spec) as ServiceSpecShape;
  for (const attachment of [...(spec.TaskTemplate?.Networks ?? []), ...(spec.Networks ?? [])]) {
    const name = attachment.Target === undefined ? undefined : networkNames.get(attachment.Target);
    if (name !== undefined) attachment.Target = name;
  }
  if (heldReplicas !== undefined && spec.Mode?.Replicated) spec.Mode.Replicated.Replicas = heldReplicas;
  return spec as Record<string, unknown>;
}

/** The parts of a service spec the export and recreate rewrite. */
export interface ServiceSpecShape {
  Name?: string;
  Mode?: { Replicated?: { Replicas?: number } };
  Networks?: Array<{ Target?: string }>;
  TaskTemplate?: {
    Networks?: Array<{ Target?: string }>;
    ContainerSpec?: {
      EnvNames?: string[];
      Secrets?: Array<{ SecretID?: string; SecretName?: string }>;
      Configs?: Array<{ ConfigID?: string; ConfigName?: string }>;
    };
  };
}
