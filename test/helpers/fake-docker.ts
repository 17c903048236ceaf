import type { ContainerFacts, DockerApi, ExecResult } from '../../src/docker/docker-api';

/** An in-memory engine: containers that can be stopped, started and exec'd into, with a call log. */
export class FakeDocker implements DockerApi {
  readonly calls: string[] = [];
  readonly refuseToStop = new Set<string>();
  readonly execResults = new Map<string, ExecResult>();

  constructor(readonly containers: ContainerFacts[] = []) {}

  async ping(): Promise<void> {}

  async runningContainers(): Promise<ContainerFacts[]> {
    return this.containers.filter((container) => container.running).map((container) => ({ ...container }));
  }

  async stopContainer(id: string): Promise<void> {
    this.calls.push(`stop ${id}`);
    if (this.refuseToStop.has(id)) throw new Error(`container ${id} did not stop in time`);
    this.byId(id).running = false;
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    this.byId(id).running = true;
  }

  async exec(id: string, command: string): Promise<ExecResult> {
    this.calls.push(`exec ${id} ${command}`);
    return this.execResults.get(command) ?? { exitCode: 0, output: '' };
  }

  private byId(id: string): ContainerFacts {
    const container = this.containers.find((candidate) => candidate.id === id);
    if (!container) throw new Error(`no such container: ${id}`);
    return container;
  }
}

export function container(id: string, facts: Partial<ContainerFacts> = {}): ContainerFacts {
  return { id, name: id, running: true, labels: {}, volumes: [], ...facts };
}
