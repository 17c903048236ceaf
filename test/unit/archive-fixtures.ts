import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, chown, link, lstat, lutimes, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createArchive, type ArchiveResult } from '../../src/archive/create-archive';
import type { Compression } from '../../src/vocabulary/volume-options';

// Shared by the archive-*.test.ts files (no tests here).

export const isRoot = process.getuid?.() === 0;
const FIXED_MTIME = new Date('2021-03-04T05:06:07.250Z');

/** A small volume with everything tar must keep: modes, mtimes, links, empty dirs, long and non-ASCII names. */
export async function buildVolume(root: string): Promise<void> {
  await mkdir(join(root, 'nested/deeper/deepest'), { recursive: true });
  await mkdir(join(root, 'empty-dir'));
  await chmod(join(root, 'empty-dir'), 0o750);
  await writeFile(join(root, 'hello.txt'), 'hello, volume\n');
  await writeFile(join(root, 'secret.key'), 'not for everyone\n', { mode: 0o600 });
  await chmod(join(root, 'secret.key'), 0o600);
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'run.sh'), 0o4755);
  await writeFile(join(root, 'empty-file'), '');
  // Larger than a packing batch and a gzip member, so both boundaries are crossed.
  await writeFile(join(root, 'nested/deeper/deepest/big.txt'), pseudoText(1_300_000));
  await symlink('hello.txt', join(root, 'link-to-hello'));
  await symlink('missing/target', join(root, 'dangling-link'));
  await link(join(root, 'hello.txt'), join(root, 'nested/hard-link'));
  const longDir = join(root, 'a'.repeat(60), 'b'.repeat(60));
  await mkdir(longDir, { recursive: true });
  await writeFile(join(longDir, `${'c'.repeat(90)}.txt`), 'needs a pax header\n');
  await writeFile(join(root, 'ünïcødé-名前.txt'), 'utf-8 name\n');
  execFileSync('mkfifo', [join(root, 'pipe')]);
  if (isRoot) {
    await writeFile(join(root, 'owned.txt'), 'owned by a container user\n');
    await chown(join(root, 'owned.txt'), 1234, 5678);
  }
  await pinMtimes(root);
}

/**
 * Gives every entry one old mtime, deepest first so that no later change touches a directory again.
 * With mtimes of "now", a tree built in one second and restored in the next would differ, and a restore
 * that failed to set mtimes at all would still pass within the same second.
 */
async function pinMtimes(path: string): Promise<void> {
  if ((await lstat(path)).isDirectory()) {
    for (const name of await readdir(path)) await pinMtimes(join(path, name));
  }
  await lutimes(path, FIXED_MTIME, FIXED_MTIME);
}

function pseudoText(size: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'volume', 'backup', 'docker', 'plugin'];
  let text = '';
  for (let index = 0; text.length < size; index++) text += words[(index * 7919) % words.length] + (index % 11 === 0 ? '\n' : ' ');
  return text.slice(0, size);
}

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeSeconds?: number;
  size?: number;
  sha256?: string;
  link?: string;
}

/** Everything about a tree that a restore must reproduce, keyed by relative path ('.' for the root). */
export async function describeTree(root: string): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const visit = async (relative: string) => {
    const path = relative === '.' ? root : join(root, relative);
    const stat = await lstat(path);
    const entry: TreeEntry = { type: 'other', mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
    if (stat.isSymbolicLink()) Object.assign(entry, { type: 'symlink', link: await readlink(path) });
    else Object.assign(entry, { mtimeSeconds: Math.floor(stat.mtimeMs / 1000) });
    if (stat.isFile()) {
      Object.assign(entry, { type: 'file', size: stat.size, sha256: createHash('sha256').update(await readFile(path)).digest('hex') });
    }
    if (stat.isFIFO()) entry.type = 'fifo';
    if (stat.isDirectory()) {
      entry.type = 'directory';
      for (const name of await readdir(path)) await visit(relative === '.' ? name : `${relative}/${name}`);
    }
    entries.set(relative, entry);
  };
  await visit('.');
  return entries;
}

/** Files of the volume this process still has open: a stopped archive must have closed them all. */
export async function openFilesUnder(dir: string): Promise<string[]> {
  const open: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) open.push(target);
  }
  return open;
}

/** Archives `sourceDir` into `path` (a plain file stream, as the bench does). */
export async function archiveToFile(sourceDir: string, path: string, compression: Compression, exclude: string[] = []): Promise<ArchiveResult> {
  const output = createWriteStream(path);
  const result = await createArchive({ sourceDir, compression, exclude, output: { kind: 'local-file', stream: output } });
  if (!output.closed) await finished(output);
  return result;
}

/** Extracts with the system tools, exactly as the README tells users to. */
export function extractWithSystemTar(archive: string, compression: Compression, into: string): void {
  if (compression === 'gzip') execFileSync('tar', ['-xzf', archive, '-C', into]);
  else if (compression === 'zstd') execFileSync('bash', ['-c', 'zstd -dc "$0" | tar -xf - -C "$1"', archive, into]);
  else execFileSync('tar', ['-xf', archive, '-C', into]);
}

export function systemTarList(archive: string, compression: Compression): string[] {
  const script = compression === 'zstd' ? 'zstd -dc "$0" | tar -tf -' : compression === 'gzip' ? 'tar -tzf "$0"' : 'tar -tf "$0"';
  return execFileSync('bash', ['-c', script, archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
}
