import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ArchiveManifest } from '../vocabulary/archive-manifest';
import type { DockerApi } from '../engine/docker-api';
import { writeFileAtomically } from '../shared/atomic-file';
import type { ArchiveUpload, OpenOptions, StoredArchive, Target } from './target';

const ASK_TIMEOUT_MS = 2_000;
/** How long an answer of the engine stands (`docker info` is one of its heavier requests). */
const FRESH_MS = 30_000;

/** Where a volume's archives go on a target, relative to the target's root. */
export interface ArchiveFolders {
  folderOf(volume: string): Promise<string>;
}

/**
 * In Swarm mode several nodes may write to one target, and each has its own volume of a given name:
 * archives go to `NODE/VOLUME/` then, `VOLUME/` otherwise. The node's Swarm membership is asked of the
 * engine (a node may join or leave a swarm at any moment), at most once per FRESH_MS: the answer serves
 * every target operation of a run (a prune removes archive after archive) and concurrent callers share
 * one question. It is persisted, so that a plugin starting before the engine answers still finds the
 * folder it last used.
 */
export class SwarmNodeFolder implements ArchiveFolders {
  private node: string | undefined;
  private loaded = false;
  private asked: { at: number; node: Promise<string | undefined> } | undefined;

  constructor(
    private readonly docker: Pick<DockerApi, 'swarmInfo'>,
    private readonly statePath: string,
    private readonly now: () => number = Date.now,
  ) {}

  async folderOf(volume: string): Promise<string> {
    const node = await this.swarmNode();
    return node ? `${node}/${volume}` : volume;
  }

  private swarmNode(): Promise<string | undefined> {
    const now = this.now();
    if (!this.asked || now - this.asked.at >= FRESH_MS) this.asked = { at: now, node: this.askEngine() };
    return this.asked.node;
  }

  private async askEngine(): Promise<string | undefined> {
    if (!this.loaded) {
      this.node = await readPersisted(this.statePath);
      this.loaded = true;
    }
    const info = await withTimeout(this.docker.swarmInfo(), ASK_TIMEOUT_MS).catch(() => undefined);
    if (!info) return this.node; // The engine does not answer: keep the last known folder.
    const node = info.active && info.nodeName ? info.nodeName : undefined;
    if (node !== this.node) {
      this.node = node;
      await writeFileAtomically(this.statePath, `${JSON.stringify({ swarmNode: node ?? null })}\n`);
    }
    return this.node;
  }
}

/** A target whose every verb works in the volume's folder as ArchiveFolders names it. */
export class NodeFolderTarget implements Target {
  constructor(
    private readonly inner: Target,
    private readonly folders: ArchiveFolders,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async beginUpload(volume: string, archive: string): Promise<ArchiveUpload> {
    return this.inner.beginUpload(await this.folders.folderOf(volume), archive);
  }

  async writeManifest(volume: string, manifest: ArchiveManifest): Promise<void> {
    await this.inner.writeManifest(await this.folders.folderOf(volume), manifest);
  }

  async list(volume: string): Promise<StoredArchive[]> {
    return this.inner.list(await this.folders.folderOf(volume));
  }

  async remove(volume: string, archive: string): Promise<void> {
    await this.inner.remove(await this.folders.folderOf(volume), archive);
  }

  async open(volume: string, archive: string, options?: OpenOptions): Promise<Readable> {
    return this.inner.open(await this.folders.folderOf(volume), archive, options);
  }

  async removeIncomplete(volume: string): Promise<string[]> {
    return this.inner.removeIncomplete(await this.folders.folderOf(volume));
  }
}

async function readPersisted(path: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { swarmNode?: string | null };
    return parsed.swarmNode ?? undefined;
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
