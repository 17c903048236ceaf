import Docker from 'dockerode';
import { PassThrough } from 'node:stream';

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
 * The only module that talks to the Docker API. Domain verbs in, plain facts out, so everything above it
 * can be tested with a fake.
 */
export interface DockerApi {
  ping(): Promise<void>;
  /** Running containers, with their labels and mounted volumes. */
  runningContainers(): Promise<ContainerFacts[]>;
  /** Whether the container was started with --rm (HostConfig.AutoRemove): a stop removes it for good. */
  autoRemoves(id: string): Promise<boolean>;
  /** Resolves when the container is stopped; a container already stopped counts as stopped. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** A container already running counts as started; one that no longer exists throws NoSuchObjectError. */
  startContainer(id: string): Promise<void>;
  /** Runs a command (through the container's /bin/sh, as offen/docker-volume-backup does) and waits. */
  exec(id: string, command: string): Promise<ExecResult>;
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

const NOT_MODIFIED = 304;
const NOT_FOUND = 404;
const OUTPUT_LIMIT = 64 * 1024;

export class DockerodeApi implements DockerApi {
  private readonly docker: Docker;

  constructor(socketPath = '/var/run/docker.sock') {
    this.docker = new Docker({ socketPath });
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async runningContainers(): Promise<ContainerFacts[]> {
    const containers = await this.docker.listContainers({ filters: { status: ['running'] } });
    return containers.map((container) => ({
      id: container.Id,
      name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
      running: container.State === 'running',
      labels: container.Labels ?? {},
      volumes: (container.Mounts ?? [])
        .filter((mount) => mount.Type === 'volume' && mount.Name)
        .map((mount) => mount.Name as string),
    }));
  }

  async autoRemoves(id: string): Promise<boolean> {
    const inspected = await goneOnNotFound(`container ${id}`, this.docker.getContainer(id).inspect());
    return inspected.HostConfig?.AutoRemove === true;
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await ignoreStatus(NOT_MODIFIED, this.docker.getContainer(id).stop({ t: timeoutSeconds }));
  }

  async startContainer(id: string): Promise<void> {
    await goneOnNotFound(`container ${id}`, ignoreStatus(NOT_MODIFIED, this.docker.getContainer(id).start()));
  }

  async exec(id: string, command: string): Promise<ExecResult> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: ['/bin/sh', '-c', command],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const output = await collectDemuxed(this.docker, stream);
    const inspected = await exec.inspect();
    return { exitCode: inspected.ExitCode ?? -1, output };
  }

  async swarmInfo(): Promise<SwarmInfo> {
    const info = (await this.docker.info()) as EngineInfo;
    return {
      active: info.Swarm?.LocalNodeState === 'active',
      manager: info.Swarm?.ControlAvailable === true,
      nodeName: info.Name ?? '',
    };
  }

  async listServices(): Promise<ServiceFacts[]> {
    const services = (await this.docker.listServices()) as ServiceInfo[];
    return services.map((service) => ({
      id: service.ID,
      name: service.Spec?.Name ?? service.ID,
      labels: service.Spec?.Labels ?? {},
      mode: service.Spec?.Mode?.Replicated ? 'replicated' : service.Spec?.Mode?.Global ? 'global' : 'other',
      replicas: service.Spec?.Mode?.Replicated?.Replicas ?? 0,
    }));
  }

  async scaleService(id: string, replicas: number): Promise<void> {
    await this.updateService(id, (spec) => {
      const mode = spec.Mode as { Replicated?: { Replicas?: number } };
      if (!mode?.Replicated) throw new Error(`service ${id} is not replicated and cannot be scaled`);
      mode.Replicated.Replicas = replicas;
    });
  }

  async activeTaskCount(id: string): Promise<number> {
    const tasks = (await this.docker.listTasks({ filters: { service: [id] } })) as TaskInfo[];
    return tasks.filter((task) => ACTIVE_TASK_STATES.has(task.Status?.State ?? '')).length;
  }

  async forceUpdateService(id: string): Promise<void> {
    await this.updateService(id, (spec) => {
      const template = (spec.TaskTemplate ?? {}) as { ForceUpdate?: number };
      template.ForceUpdate = (template.ForceUpdate ?? 0) + 1;
      spec.TaskTemplate = template;
    });
  }

  async describeContainer(id: string): Promise<ObjectSpec> {
    const inspected = await this.docker.getContainer(id).inspect();
    return {
      name: inspected.Name.replace(/^\//, ''),
      image: inspected.Config.Image,
      entrypoint: inspected.Config.Entrypoint,
      cmd: inspected.Config.Cmd,
      envNames: envNames(inspected.Config.Env),
      labels: inspected.Config.Labels,
      mounts: inspected.Mounts.map((mount) => ({
        type: mount.Type,
        name: mount.Name,
        source: mount.Type === 'volume' ? undefined : mount.Source,
        destination: mount.Destination,
        driver: mount.Driver,
        readOnly: !mount.RW,
      })),
      restartPolicy: inspected.HostConfig.RestartPolicy,
      networks: Object.keys(inspected.NetworkSettings?.Networks ?? {}),
    };
  }

  async describeService(id: string): Promise<ObjectSpec> {
    const inspected = (await this.docker.getService(id).inspect()) as ServiceInfo;
    const spec = structuredClone(inspected.Spec ?? {}) as ObjectSpec & { TaskTemplate?: { ContainerSpec?: { Env?: unknown } } };
    const containerSpec = spec.TaskTemplate?.ContainerSpec;
    if (containerSpec?.Env !== undefined) {
      (containerSpec as Record<string, unknown>).EnvNames = envNames(containerSpec.Env as string[]);
      delete containerSpec.Env;
    }
    return spec;
  }

  /**
   * Read-modify-write of a service spec. Swarm rejects an update made against an older version ("update
   * out of sequence") when something else changed the service meanwhile: read again and retry.
   */
  private async updateService(id: string, change: (spec: Record<string, unknown>) => void): Promise<void> {
    const service = this.docker.getService(id);
    for (let attempt = 1; ; attempt += 1) {
      const inspected = (await goneOnNotFound(`service ${id}`, service.inspect())) as ServiceInfo;
      const spec = structuredClone(inspected.Spec ?? {}) as Record<string, unknown>;
      change(spec);
      try {
        await goneOnNotFound(`service ${id}`, service.update({ _query: { version: inspected.Version?.Index }, _body: spec }));
        return;
      } catch (error) {
        if (attempt >= UPDATE_ATTEMPTS || !/out of sequence/i.test((error as Error).message)) throw error;
      }
    }
  }
}

const UPDATE_ATTEMPTS = 5;

/** Task states before the container is gone for good (Swarm's own task life cycle). */
const ACTIVE_TASK_STATES = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

interface EngineInfo {
  Name?: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

interface ServiceInfo {
  ID: string;
  Version?: { Index?: number };
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
  } & Record<string, unknown>;
}

interface TaskInfo {
  Status?: { State?: string };
}

/** KEY=VALUE entries reduced to their keys: values often carry passwords. */
function envNames(env: string[] | null | undefined): string[] {
  return (env ?? []).map((entry) => entry.split('=', 1)[0]);
}

async function goneOnNotFound<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === NOT_FOUND) throw new NoSuchObjectError(what, error);
    throw error;
  }
}

async function ignoreStatus(status: number, work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== status) throw error;
  }
}

/** Keeps the tail of a command's output (bounded), for the error message when it fails. */
async function collectDemuxed(docker: Docker, stream: NodeJS.ReadableStream): Promise<string> {
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  return output.trim();
}
