import type { ConfigDefinition, NetworkDefinition, SecretDefinition, ServiceDefinition } from '../vocabulary/swarm-definitions';

/** A container as the quiesce logic sees it: only what decisions are made on. */
export interface ContainerFacts {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  /** Names of the named volumes it mounts. */
  volumes: string[];
  /** Started with --rm (HostConfig.AutoRemove): stopping it removes it. Known only where planFromEngine asked. */
  autoRemove?: boolean;
}

/** Swarm membership of this node, as decisions need it. */
export interface SwarmInfo {
  active: boolean;
  /** Only a manager can list and scale services. */
  manager: boolean;
  /** The node's name (hostname), used to keep nodes' archives apart on a shared target. */
  nodeName: string;
}

/** A Swarm service as the quiesce logic sees it. */
export interface ServiceFacts {
  id: string;
  name: string;
  /** The service's own (deploy) labels, not its containers'. */
  labels: Record<string, string>;
  mode: 'replicated' | 'global' | 'other';
  /** Desired replicas; 0 for services that are not replicated. */
  replicas: number;
}

/** What is kept in a manifest about a stopped container or service: enough to recreate it, no secrets. */
export type ObjectSpec = Record<string, unknown>;

/**
 * The container or service no longer exists (the engine answered 404): someone removed it. Nothing can
 * bring it back, so callers treat it as gone rather than as a failure to retry.
 */
export class NoSuchObjectError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what} no longer exists`, { cause });
    this.name = 'NoSuchObjectError';
  }
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/**
 * What the plugin asks of the Docker API (dockerode-api.ts answers it). Domain verbs in, plain facts out,
 * so everything above it can be tested with a fake.
 */
export interface DockerApi {
  ping(): Promise<void>;
  /** Running containers, with their labels and mounted volumes. */
  runningContainers(): Promise<ContainerFacts[]>;
  /** Whether the container was started with --rm (HostConfig.AutoRemove): a stop removes it for good. */
  autoRemoves(id: string): Promise<boolean>;
  /**
   * The container's own stop signal and stop timeout (Config.StopSignal, Config.StopTimeout), each
   * undefined when the container sets none.
   */
  stopSettings(id: string): Promise<{ signal?: string; timeoutSeconds?: number }>;
  /**
   * Sends the container's stop signal and resolves when it is down; the engine kills it when it is still
   * running after timeoutSeconds. A container already stopped counts as stopped.
   */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** A container already running counts as started; one that no longer exists throws NoSuchObjectError. */
  startContainer(id: string): Promise<void>;
  /**
   * Runs a command (through the container's /bin/sh, as offen/docker-volume-backup does) and waits, until
   * `signal` aborts: then it rejects with the signal's reason (the command may go on in the container:
   * the Docker API cannot kill an exec'd process).
   */
  exec(id: string, command: string, options?: { signal?: AbortSignal }): Promise<ExecResult>;
  swarmInfo(): Promise<SwarmInfo>;
  /** Swarm services (managers only). */
  listServices(): Promise<ServiceFacts[]>;
  /** Sets the desired replica count of a replicated service; NoSuchObjectError when it no longer exists. */
  scaleService(id: string, replicas: number): Promise<void>;
  /** Tasks of the service that still run or are about to (not yet shut down). */
  activeTaskCount(id: string): Promise<number>;
  /**
   * Makes Swarm replace the service's tasks: brings back a task container that was stopped directly.
   * NoSuchObjectError when the service no longer exists.
   */
  forceUpdateService(id: string): Promise<void>;
  /** The container's definition for the manifest; environment values are left out (they hold secrets). */
  describeContainer(id: string): Promise<ObjectSpec>;
  /** The service's spec for the manifest; environment values are left out. */
  describeService(id: string): Promise<ObjectSpec>;
}

/**
 * What `backupvol swarm export` and `swarm recreate` ask of a manager (dockerode-swarm-definitions.ts).
 * Reads give the definitions as the export keeps them; creates take what the engine's create calls take
 * and return the new object's ID.
 */
export interface SwarmDefinitionsApi {
  /** Swarm-scoped networks, not the predefined ingress network. */
  networks(): Promise<NetworkDefinition[]>;
  configs(): Promise<ConfigDefinition[]>;
  /** Names and labels; the engine never gives a secret's data. */
  secrets(): Promise<SecretDefinition[]>;
  /** Full specs, environment values left out. */
  services(): Promise<ServiceDefinition[]>;
  createNetwork(spec: Record<string, unknown>): Promise<string>;
  createConfig(spec: Record<string, unknown>): Promise<string>;
  createService(spec: Record<string, unknown>): Promise<string>;
}
