import { closeSync, constants, mkdirSync, openSync } from 'node:fs';

/**
 * `/proc/PID/fd/N` is the open directory N itself: the kernel resolves a name below it from that
 * directory's inode, as openat(2) does (Node has no openat), never from the path the directory was opened
 * by. So a component that a container or an archive swaps for a symlink afterwards leads nowhere. The PID
 * rather than `self`: a helper process (mkfifo) resolves the same paths.
 */
const OPEN_DESCRIPTORS = `/proc/${process.pid}/fd`;
const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A directory held open, through which the names inside it are reached. Every name given to it must be
 * one path component: a name with a `/` would be resolved through its own components again.
 */
export class PinnedDirectory {
  private readonly prefix: string;

  private constructor(readonly fd: number) {
    this.prefix = `${OPEN_DESCRIPTORS}/${fd}/`;
  }

  /** A directory whose path the plugin trusts (its own folders); the last component is not followed. */
  static open(path: string | Buffer): PinnedDirectory {
    return new PinnedDirectory(openSync(path, DIRECTORY_FLAGS));
  }

  /** The path that reaches `name` in this directory and nowhere else, for any path-taking call. */
  at(name: string): string;
  at(name: Buffer): Buffer;
  at(name: string | Buffer): string | Buffer {
    return typeof name === 'string' ? this.prefix + name : Buffer.concat([Buffer.from(this.prefix), name]);
  }

  /** The subdirectory `name`; fails with ELOOP or ENOTDIR when it is a symlink or no directory. */
  openDirectory(name: string | Buffer): PinnedDirectory {
    return new PinnedDirectory(openSync(this.at(name as string), DIRECTORY_FLAGS));
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** What opening a folder fails with when it vanished or was swapped for something else (a live tree). */
const NOT_A_DIRECTORY_NOW = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/** The folder `open` opens, or undefined when it is gone or is no folder any more (a symlink, a file). */
export function openIfStillDirectory(open: () => PinnedDirectory): PinnedDirectory | undefined {
  try {
    return open();
  } catch (error) {
    if (NOT_A_DIRECTORY_NOW.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

/**
 * The directories along one path below a pinned root, each opened from its parent without following a
 * symlink: where a writer that visits a tree in an order of its own (tar's) puts each name. Consecutive
 * names in one directory share its handle, and at most one handle per level is open.
 */
export class DirectoryChain {
  private readonly chain: Array<{ name: string; directory: PinnedDirectory }> = [];

  constructor(private readonly root: PinnedDirectory) {}

  /**
   * The directory that `parts` names below the root ([] is the root). A missing one is created (mode
   * 0700, as tar makes the folders an archive does not list) when `createMissing` is set.
   */
  directory(parts: readonly string[], options: { createMissing: boolean }): PinnedDirectory {
    let shared = 0;
    while (shared < this.chain.length && shared < parts.length && this.chain[shared].name === parts[shared]) shared++;
    this.keep(shared);
    for (let index = shared; index < parts.length; index++) {
      const parent = this.top();
      const name = parts[index];
      this.chain.push({ name, directory: openOrCreate(parent, name, options.createMissing) });
    }
    return this.top();
  }

  /** Forgets the handles of `parts` and below it: that name now holds something else. */
  forget(parts: readonly string[]): void {
    let shared = 0;
    while (shared < this.chain.length && shared < parts.length && this.chain[shared].name === parts[shared]) shared++;
    if (shared === parts.length) this.keep(parts.length - 1);
  }

  close(): void {
    this.keep(0);
  }

  private top(): PinnedDirectory {
    return this.chain.at(-1)?.directory ?? this.root;
  }

  private keep(length: number): void {
    while (this.chain.length > Math.max(0, length)) this.chain.pop()?.directory.close();
  }
}

function openOrCreate(parent: PinnedDirectory, name: string, createMissing: boolean): PinnedDirectory {
  try {
    return parent.openDirectory(name);
  } catch (error) {
    if (!createMissing || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(parent.at(name), { mode: 0o700 });
    return parent.openDirectory(name);
  }
}
