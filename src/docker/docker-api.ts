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
  /** Resolves when the container is stopped; a container already stopped counts as stopped. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** A container already running counts as started. */
  startContainer(id: string): Promise<void>;
  /** Runs a command (through the container's /bin/sh, as offen/docker-volume-backup does) and waits. */
  exec(id: string, command: string): Promise<ExecResult>;
}

const NOT_MODIFIED = 304;
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

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await ignoreStatus(NOT_MODIFIED, this.docker.getContainer(id).stop({ t: timeoutSeconds }));
  }

  async startContainer(id: string): Promise<void> {
    await ignoreStatus(NOT_MODIFIED, this.docker.getContainer(id).start());
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
