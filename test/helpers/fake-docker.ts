import { NoSuchObjectError, type ContainerFacts, type DockerApi, type ExecResult, type ObjectSpec, type ServiceFacts, type SwarmInfo } from '../../src/engine/docker-api';

/**
 * An in-memory engine: containers that can be stopped, started and exec'd into, and Swarm services that
 * can be scaled (their tasks stop at once unless listed in `lingeringTasks`), with a call log.
 */
export class FakeDocker implements DockerApi {
  readonly calls: string[] = [];
  readonly refuseToStop = new Set<string>();
  /** Containers' own Config.StopSignal / StopTimeout, by id. */
  readonly ownStopSettings = new Map<string, { signal?: string; timeoutSeconds?: number }>();
  /** Containers whose process ignores its stop signal: the stop takes the whole timeout (then a kill). */
  readonly ignoreStopSignal = new Set<string>();
  /** The timeout each stop was given, by id. */
  readonly stopTimeoutsGiven = new Map<string, number>();
  readonly refuseToStart = new Set<string>();
  readonly execResults = new Map<string, ExecResult>();
  /** Commands that never finish (a dump waiting on a lock): their exec settles only when its signal aborts. */
  readonly hangingCommands = new Set<string>();
  swarm: SwarmInfo = { active: false, manager: false, nodeName: 'node-1' };
  services: ServiceFacts[] = [];
  /** Services whose tasks keep running after a scale to 0 (a task that ignores its stop). */
  readonly lingeringTasks = new Set<string>();
  /** Services whose next scales fail, this many times (Infinity: always). */
  readonly failingScales = new Map<string, number>();

  constructor(readonly containers: ContainerFacts[] = []) {}

  async swarmInfo(): Promise<SwarmInfo> {
    return { ...this.swarm };
  }

  async listServices(): Promise<ServiceFacts[]> {
    return this.services.map((service) => ({ ...service }));
  }

  async scaleService(id: string, replicas: number): Promise<void> {
    this.calls.push(`scale ${id} ${replicas}`);
    const failures = this.failingScales.get(id) ?? 0;
    if (failures > 0) {
      this.failingScales.set(id, failures - 1);
      throw new Error(`service ${id} could not be scaled`);
    }
    this.serviceById(id).replicas = replicas;
  }

  async activeTaskCount(id: string): Promise<number> {
    const service = this.serviceById(id);
    return this.lingeringTasks.has(id) ? Math.max(1, service.replicas) : service.replicas;
  }

  async forceUpdateService(id: string): Promise<void> {
    this.calls.push(`force-update ${id}`);
    this.serviceById(id);
  }

  async describeContainer(id: string): Promise<ObjectSpec> {
    return { name: this.byId(id).name, envNames: ['PASSWORD'] };
  }

  async describeService(id: string): Promise<ObjectSpec> {
    return { Name: this.serviceById(id).name };
  }

  private serviceById(id: string): ServiceFacts {
    const service = this.services.find((candidate) => candidate.id === id);
    if (!service) throw new NoSuchObjectError(`service ${id}`, new Error('404'));
    return service;
  }

  async ping(): Promise<void> {}

  async runningContainers(): Promise<ContainerFacts[]> {
    return this.containers.filter((container) => container.running).map((container) => ({ ...container }));
  }

  async autoRemoves(id: string): Promise<boolean> {
    return this.byId(id).autoRemove === true;
  }

  async stopSettings(id: string): Promise<{ signal?: string; timeoutSeconds?: number }> {
    this.byId(id);
    return this.ownStopSettings.get(id) ?? {};
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.calls.push(`stop ${id}`);
    this.stopTimeoutsGiven.set(id, timeoutSeconds);
    if (this.ignoreStopSignal.has(id)) await new Promise((resolve) => setTimeout(resolve, timeoutSeconds * 1000));
    if (this.refuseToStop.has(id)) throw new Error(`container ${id} did not stop in time`);
    const stopped = this.byId(id);
    stopped.running = false;
    // docker run --rm: the engine removes it once it stops.
    if (stopped.autoRemove) this.containers.splice(this.containers.indexOf(stopped), 1);
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    if (this.refuseToStart.has(id)) throw new Error(`container ${id} could not be started`);
    this.byId(id).running = true;
  }

  async exec(id: string, command: string, options: { signal?: AbortSignal } = {}): Promise<ExecResult> {
    this.calls.push(`exec ${id} ${command}`);
    if (this.hangingCommands.has(command)) {
      const { signal } = options;
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    }
    return this.execResults.get(command) ?? { exitCode: 0, output: '' };
  }

  private byId(id: string): ContainerFacts {
    const container = this.containers.find((candidate) => candidate.id === id);
    if (!container) throw new NoSuchObjectError(`container ${id}`, new Error('404'));
    return container;
  }
}

export function container(id: string, facts: Partial<ContainerFacts> = {}): ContainerFacts {
  return { id, name: id, running: true, labels: {}, volumes: [], ...facts };
}

export function service(id: string, facts: Partial<ServiceFacts> = {}): ServiceFacts {
  return { id, name: id, labels: {}, mode: 'replicated', replicas: 2, ...facts };
}
