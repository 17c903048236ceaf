/**
 * What `backupvol swarm export` writes and `backupvol swarm recreate` reads: a Swarm's own definitions
 * (services, networks, configs, secrets' names), the part of a lost cluster that no volume holds.
 * Environment values never enter it (services keep EnvNames, as manifests do), nor does a secret's data.
 */
export const SWARM_DEFINITIONS_FORMAT = 'backupvol-swarm-definitions';

/** A network as `POST /networks/create` takes it, with its ID in the exporting cluster. */
export interface NetworkDefinition {
  id: string;
  name: string;
  spec: Record<string, unknown>;
}

/** A config with its data (base64), as `POST /configs/create` takes it. */
export interface ConfigDefinition {
  id: string;
  name: string;
  spec: { Name: string; Labels?: Record<string, string>; Data: string } & Record<string, unknown>;
}

/** A secret's name and labels: its data cannot be read from the engine, and is never invented. */
export interface SecretDefinition {
  id: string;
  name: string;
  labels: Record<string, string>;
}

/**
 * A service's full spec as `POST /services/create` takes it, except that ContainerSpec.Env is replaced by
 * EnvNames and each network Target holds the network's name (IDs do not survive the cluster).
 */
export interface ServiceDefinition {
  id: string;
  name: string;
  spec: Record<string, unknown>;
}

export interface SwarmDefinitions {
  format: typeof SWARM_DEFINITIONS_FORMAT;
  version: 1;
  exportedAt: string;
  node: string;
  networks: NetworkDefinition[];
  configs: ConfigDefinition[];
  secrets: SecretDefinition[];
  services: ServiceDefinition[];
}

/** `3 services, 1 network, 2 configs, 1 secret` */
export function countDefinitions(definitions: SwarmDefinitions): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return [
    count(definitions.services.length, 'service'),
    count(definitions.networks.length, 'network'),
    count(definitions.configs.length, 'config'),
    count(definitions.secrets.length, 'secret'),
  ].join(', ');
}

/** Checks a document read from a file or a request; throws saying what is wrong with it. */
export function parseSwarmDefinitions(value: unknown): SwarmDefinitions {
  const document = record(value, 'the document');
  if (document.format !== SWARM_DEFINITIONS_FORMAT) {
    throw new Error(`not a backupvol swarm export (its "format" is not "${SWARM_DEFINITIONS_FORMAT}"): make one with backupvol swarm export`);
  }
  if (document.version !== 1) throw new Error(`swarm export version ${String(document.version)} is not one this backupvol reads (1)`);
  const named = (key: string) =>
    list(document[key], key).map((item, index) => {
      const entry = record(item, `${key}[${index}]`);
      if (typeof entry.name !== 'string' || entry.name === '') throw new Error(`${key}[${index}] has no name`);
      if (typeof entry.id !== 'string') throw new Error(`${key}[${index}] (${entry.name}) has no id`);
      return entry;
    });
  const withSpec = (key: string) =>
    named(key).map((entry) => {
      record(entry.spec, `the spec of ${entry.name as string}`);
      return entry;
    });
  const configs = withSpec('configs');
  for (const config of configs) {
    if (typeof (config.spec as Record<string, unknown>).Data !== 'string') throw new Error(`config ${config.name as string} has no Data`);
  }
  return {
    format: SWARM_DEFINITIONS_FORMAT,
    version: 1,
    exportedAt: String(document.exportedAt ?? ''),
    node: String(document.node ?? ''),
    networks: withSpec('networks') as unknown as NetworkDefinition[],
    configs: configs as unknown as ConfigDefinition[],
    secrets: named('secrets').map((entry) => ({ id: entry.id as string, name: entry.name as string, labels: (entry.labels ?? {}) as Record<string, string> })),
    services: withSpec('services') as unknown as ServiceDefinition[],
  };
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`"${what}" is not a list`);
  return value;
}
