import { MASK } from '../../engine/redact-spec';
import type { SwarmDefinitions } from '../../vocabulary/swarm-definitions';
import type { ServiceSpecShape, SwarmSources } from './export-definitions';
import { requireManager } from './require-manager';

export type RecreateOutcome = 'created' | 'would create' | 'exists' | 'missing' | 'not created' | 'failed';

export interface RecreatedObject {
  kind: 'network' | 'config' | 'secret' | 'service';
  name: string;
  outcome: RecreateOutcome;
  /** Why it is missing, not created or failed. */
  detail?: string;
  /** Replicas of a service created (or that would be). */
  replicas?: number;
  /** What of a service the export did not hold, so that its creation could not restore it. */
  notRestored?: string[];
}

export interface RecreateReport {
  dryRun: boolean;
  /** Networks, configs, secrets, then services: the order they are made in. */
  objects: RecreatedObject[];
  /** Nothing failed, nothing was left out for a missing dependency. */
  complete: boolean;
}

/** Outcomes that leave the cluster short of what the export holds. */
const SHORT: ReadonlySet<RecreateOutcome> = new Set(['missing', 'not created', 'failed']);

/**
 * Creates what the export holds and the cluster lacks, by name: networks and configs first, then the
 * services on them (with their replica counts). What exists is left alone. A secret cannot be made from
 * the export (it has no data): a missing one is named, and the services that need it are not created,
 * since the engine refuses them. With dryRun nothing is created; the report says what would be.
 */
export async function recreateSwarmDefinitions(sources: Pick<SwarmSources, 'docker' | 'definitions'>, document: SwarmDefinitions, dryRun: boolean): Promise<RecreateReport> {
  requireManager(await sources.docker.swarmInfo(), 'backupvol swarm recreate');
  const { definitions } = sources;
  const [networks, configs, secrets, services] = await Promise.all([definitions.networks(), definitions.configs(), definitions.secrets(), definitions.services()]);
  const objects: RecreatedObject[] = [];
  const make = async (kind: RecreatedObject['kind'], name: string, create: () => Promise<string>, extra: Partial<RecreatedObject> = {}): Promise<string | undefined> => {
    if (dryRun) {
      objects.push({ kind, name, outcome: 'would create', ...extra });
      return `(${name} in a dry run)`;
    }
    try {
      const id = await create();
      objects.push({ kind, name, outcome: 'created', ...extra });
      return id;
    } catch (error) {
      objects.push({ kind, name, outcome: 'failed', detail: (error as Error).message, ...extra });
      return undefined;
    }
  };

  const networkIds = new Map(networks.map((network) => [network.name, network.id]));
  for (const network of document.networks) {
    if (networkIds.has(network.name)) objects.push({ kind: 'network', name: network.name, outcome: 'exists' });
    else remember(networkIds, network.name, await make('network', network.name, () => definitions.createNetwork(network.spec)));
  }
  const configIds = new Map(configs.map((config) => [config.name, config.id]));
  for (const config of document.configs) {
    if (configIds.has(config.name)) objects.push({ kind: 'config', name: config.name, outcome: 'exists' });
    else remember(configIds, config.name, await make('config', config.name, () => definitions.createConfig(config.spec)));
  }
  const secretIds = new Map(secrets.map((secret) => [secret.name, secret.id]));
  for (const secret of document.secrets) {
    objects.push(
      secretIds.has(secret.name)
        ? { kind: 'secret', name: secret.name, outcome: 'exists' }
        : { kind: 'secret', name: secret.name, outcome: 'missing', detail: `its data is never exported: create it (docker secret create ${secret.name} FILE), then run recreate again` },
    );
  }
  const exported = new Set(document.networks.map((network) => network.name));
  const serviceNames = new Set(services.map((service) => service.name));
  for (const service of document.services) {
    if (serviceNames.has(service.name)) {
      objects.push({ kind: 'service', name: service.name, outcome: 'exists' });
      continue;
    }
    const { spec, lacking, notRestored } = creatableSpec(service.spec, { networkIds, configIds, secretIds, exported });
    const extra = { replicas: (spec as ServiceSpecShape).Mode?.Replicated?.Replicas, ...(notRestored.length > 0 ? { notRestored } : {}) };
    if (lacking.length > 0) objects.push({ kind: 'service', name: service.name, outcome: 'not created', detail: `it needs ${lacking.join(', ')}`, ...extra });
    else await make('service', service.name, () => definitions.createService(spec), extra);
  }
  return { dryRun, objects, complete: !objects.some((object) => SHORT.has(object.outcome)) };
}

function remember(ids: Map<string, string>, name: string, id: string | undefined): void {
  if (id !== undefined) ids.set(name, id);
}

interface Known {
  networkIds: ReadonlyMap<string, string>;
  configIds: ReadonlyMap<string, string>;
  secretIds: ReadonlyMap<string, string>;
  /** Names of the networks the export holds: a service's Target among them must exist by now. */
  exported: ReadonlySet<string>;
}

/**
 * The exported spec as this cluster takes it: the IDs of its networks, secrets and configs here, no
 * EnvNames. What
 * it lacks (a secret, config or network that is not here) and what the export did not hold (environment
 * values, masked values) are listed.
 */
export function creatableSpec(exported: Record<string, unknown>, known: Known): { spec: Record<string, unknown>; lacking: string[]; notRestored: string[] } {
  const spec = structuredClone(exported) as ServiceSpecShape;
  const lacking: string[] = [];
  const notRestored: string[] = [];
  const containerSpec = spec.TaskTemplate?.ContainerSpec;
  if (containerSpec?.EnvNames) {
    if (containerSpec.EnvNames.length > 0) notRestored.push(`the values of its environment variables ${containerSpec.EnvNames.join(', ')}`);
    delete containerSpec.EnvNames;
  }
  for (const reference of containerSpec?.Secrets ?? []) {
    const id = reference.SecretName === undefined ? undefined : known.secretIds.get(reference.SecretName);
    if (id === undefined) lacking.push(`secret ${reference.SecretName ?? reference.SecretID}`);
    else reference.SecretID = id;
  }
  for (const reference of containerSpec?.Configs ?? []) {
    const id = reference.ConfigName === undefined ? undefined : known.configIds.get(reference.ConfigName);
    if (id === undefined) lacking.push(`config ${reference.ConfigName ?? reference.ConfigID}`);
    else reference.ConfigID = id;
  }
  for (const attachment of [...(spec.TaskTemplate?.Networks ?? []), ...(spec.Networks ?? [])]) {
    const target = attachment.Target;
    if (target === undefined || !known.exported.has(target)) continue;
    const id = known.networkIds.get(target);
    if (id === undefined) lacking.push(`network ${target}`);
    else attachment.Target = id;
  }
  const masked = maskedPaths(spec, '');
  if (masked.length > 0) notRestored.push(`values masked in the export (they looked like credentials): ${masked.join(', ')}`);
  return { spec: spec as Record<string, unknown>, lacking, notRestored };
}

/** Where MASK stands in a value, as `TaskTemplate.ContainerSpec.Args[2]`. */
function maskedPaths(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value.includes(MASK) ? [path] : [];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => maskedPaths(item, `${path}[${index}]`));
  return Object.entries(value).flatMap(([key, item]) => maskedPaths(item, path === '' ? key : `${path}.${key}`));
}
