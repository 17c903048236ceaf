import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { DEFAULT_TIMEOUTS } from '../settings/settings';
import { withTimeout } from '../shared/with-timeout';
import { loadDockerode } from './load-dockerode';
import { DockerodeSwarmDefinitions } from './dockerode-swarm-definitions';
import { envNames, withoutEnvValues } from './env-names';
import { NoSuchObjectError, type ContainerFacts, type DockerApi, type ExecResult, type ObjectSpec, type ServiceFacts, type SwarmDefinitionsApi, type SwarmInfo } from './docker-api';

const NOT_MODIFIED = 304;
const NOT_FOUND = 404;
const OUTPUT_LIMIT = 64 * 1024;

/** The plugin's one client of the engine: every request bounded by DOCKER_API_TIMEOUT. */
export class DockerodeApi implements DockerApi {
  private readonly docker: Docker;
  private readonly requestTimeoutMs: number;

  constructor(socketPath = '/var/run/docker.sock', options: { requestTimeoutMs?: number } = {}) {
    this.docker = new (loadDockerode())({ socketPath });
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUTS.dockerApiSeconds * 1000;
  }

  async ping(): Promise<void> {
    await this.request('answering a ping', (abortSignal) => untypedOptions(this.docker.ping).call(this.docker, { abortSignal }));
  }

  async runningContainers(): Promise<ContainerFacts[]> {
    const containers = await this.request('listing the running containers', (abortSignal) =>
      this.docker.listContainers({ filters: { status: ['running'] }, abortSignal }),
    );
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

  async stopSettings(id: string): Promise<{ signal?: string; timeoutSeconds?: number }> {
    const inspect = this.request(`reading the stop settings of container ${id}`, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    const config = (await goneOnNotFound(`container ${id}`, inspect)).Config as { StopSignal?: string; StopTimeout?: number | null };
    return {
      ...(config.StopSignal ? { signal: config.StopSignal } : {}),
      ...(typeof config.StopTimeout === 'number' ? { timeoutSeconds: config.StopTimeout } : {}),
    };
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    // The engine answers a stop once the container stopped: up to its stop timeout (then it kills it).
    // No signal is given, so the engine sends the container's own StopSignal.
    const stop = this.request(
      `stopping container ${id}`,
      (abortSignal) => this.docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal }),
      timeoutSeconds * 1000,
    );
    await ignoreStatus(NOT_MODIFIED, stop);
  }

  async startContainer(id: string): Promise<void> {
    const start = this.request(`starting container ${id}`, (abortSignal) => this.docker.getContainer(id).start({ abortSignal }));
    await goneOnNotFound(`container ${id}`, ignoreStatus(NOT_MODIFIED, start));
  }

  async exec(id: string, command: string, options: { signal?: AbortSignal } = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(id);
    const exec = await this.request(`creating an exec in container ${id}`, (abortSignal) =>
      container.exec({ Cmd: ['/bin/sh', '-c', command], AttachStdout: true, AttachStderr: true, abortSignal }),
    );
    // The command's own run is bounded by the caller's signal (HOOK_TIMEOUT), not by DOCKER_API_TIMEOUT:
    // a database dump may rightly take longer than any one request.
    const { signal } = options;
    signal?.throwIfAborted();
    const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal });
    const output = await collectDemuxed(this.docker, stream, signal);
    const inspected = await this.request(`reading the exit code of an exec in container ${id}`, (abortSignal) => exec.inspect({ abortSignal }));
    return { exitCode: inspected.ExitCode ?? -1, output };
  }

  async swarmInfo(): Promise<SwarmInfo> {
    const info = (await this.request('reading the engine info', (abortSignal) => untypedOptions(this.docker.info).call(this.docker, { abortSignal }))) as EngineInfo;
    return {
      active: info.Swarm?.LocalNodeState === 'active',
      manager: info.Swarm?.ControlAvailable === true,
      nodeName: info.Name ?? '',
    };
  }

  async listServices(): Promise<ServiceFacts[]> {
    const services = (await this.request('listing the services', (abortSignal) => this.docker.listServices({ abortSignal }))) as ServiceInfo[];
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
    const tasks = (await this.request(`listing the tasks of service ${id}`, (abortSignal) =>
      this.docker.listTasks({ filters: { service: [id] }, abortSignal }),
    )) as TaskInfo[];
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
    const inspected = await this.request(`inspecting container ${id}`, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
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
    const inspected = (await this.request(`inspecting service ${id}`, (abortSignal) => this.docker.getService(id).inspect({ abortSignal }))) as ServiceInfo;
    return withoutEnvValues(inspected.Spec ?? {});
  }

  /** Swarm's definitions (services, networks, configs, secrets), through this client and its timeouts. */
  definitions(): SwarmDefinitionsApi {
    return new DockerodeSwarmDefinitions(this.docker, (what, call) => this.request(what, call));
  }

  /**
   * One request to the engine, bounded by DOCKER_API_TIMEOUT (plus extraMs for a request that rightly
   * takes longer, such as a stop). An engine that hangs (a stuck container, a daemon busy on a lock)
   * fails the run with what was asked of it, instead of holding the volume and the concurrency slot.
   */
  private async request<T>(what: string, call: (abortSignal: AbortSignal) => Promise<T>, extraMs = 0): Promise<T> {
    const ms = this.requestTimeoutMs + extraMs;
    return withTimeout(ms, call, () => new Error(`the Docker API gave no answer in ${ms / 1000} s while ${what} (DOCKER_API_TIMEOUT)`));
  }

  /**
   * Read-modify-write of a service spec. Swarm rejects an update made against an older version ("update
   * out of sequence") when something else changed the service meanwhile: read again and retry.
   */
  private async updateService(id: string, change: (spec: Record<string, unknown>) => void): Promise<void> {
    const service = this.docker.getService(id);
    for (let attempt = 1; ; attempt += 1) {
      const inspect = this.request(`inspecting service ${id}`, (abortSignal) => service.inspect({ abortSignal }));
      const inspected = (await goneOnNotFound(`service ${id}`, inspect)) as ServiceInfo;
      const spec = structuredClone(inspected.Spec ?? {}) as Record<string, unknown>;
      change(spec);
      try {
        const update = this.request(`updating service ${id}`, (abortSignal) =>
          service.update({ _query: { version: inspected.Version?.Index }, _body: spec, abortSignal }),
        );
        await goneOnNotFound(`service ${id}`, update);
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

/** dockerode's ping and info take options (abortSignal) like its other calls; its types only say so for those. */
function untypedOptions(method: unknown): (this: Docker, options: { abortSignal: AbortSignal }) => Promise<unknown> {
  return method as (this: Docker, options: { abortSignal: AbortSignal }) => Promise<unknown>;
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

/**
 * Keeps the tail of a command's output (bounded), for the error message when it fails. When signal
 * aborts, the attached stream is closed and this rejects with the signal's reason.
 */
async function collectDemuxed(docker: Docker, stream: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string> {
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    const aborted = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(signal?.reason);
    };
    const settle = (done: () => void) => () => {
      signal?.removeEventListener('abort', aborted);
      done();
    };
    signal?.addEventListener('abort', aborted, { once: true });
    stream.on('end', settle(resolve));
    stream.on('close', settle(resolve));
    stream.on('error', (error: Error) => settle(() => reject(error))());
  });
  return output.trim();
}
