import assert from 'node:assert/strict';
import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';

export interface CompareTreesOptions {
  /** Paths (relative, '/'-separated) present in `expected` that `actual` is meant not to have. */
  skip?: (relativePath: string) => boolean;
  /** Compare uid/gid too. Default: when running as root, the only user that can copy them. */
  ownership?: boolean;
  /** How far mtimes may drift: a ustar archive keeps whole seconds only. Default 2 µs. */
  mtimeToleranceNs?: bigint;
}

/**
 * utimes can only set microseconds (libuv truncates), so a faithful copy lands within ~1.3 µs of the
 * source's nanoseconds. Same tolerance as the mirror's quick check.
 */
const MTIME_TOLERANCE_NS = 2_000n;

/**
 * Every difference between two trees, one line each: names, type, content, symlink target, permission
 * bits, mtime (directories included, the roots too) and ownership. Names are compared as bytes.
 */
export async function compareTrees(expected: string, actual: string, options: CompareTreesOptions = {}): Promise<string[]> {
  const differences: string[] = [];
  const ownership = options.ownership ?? process.getuid?.() === 0;
  const skip = options.skip ?? (() => false);

  const visit = async (rel: Buffer): Promise<void> => {
    const label = rel.length === 0 ? '.' : rel.toString();
    const left = await lstat(join(expected, rel), { bigint: true });
    const right = await lstat(join(actual, rel), { bigint: true }).catch(() => undefined);
    if (!right) {
      differences.push(`${label}: missing`);
      return;
    }
    if (typeOf(left) !== typeOf(right)) {
      differences.push(`${label}: ${typeOf(left)} became ${typeOf(right)}`);
      return;
    }
    if (!left.isSymbolicLink() && (left.mode & 0o7777n) !== (right.mode & 0o7777n)) {
      differences.push(`${label}: mode ${(left.mode & 0o7777n).toString(8)} became ${(right.mode & 0o7777n).toString(8)}`);
    }
    const drift = left.mtimeNs - right.mtimeNs;
    const tolerance = options.mtimeToleranceNs ?? MTIME_TOLERANCE_NS;
    if (drift >= tolerance || drift <= -tolerance) {
      differences.push(`${label}: mtime ${left.mtimeNs} became ${right.mtimeNs}`);
    }
    if (ownership && (left.uid !== right.uid || left.gid !== right.gid)) {
      differences.push(`${label}: owner ${left.uid}:${left.gid} became ${right.uid}:${right.gid}`);
    }
    if (left.isFile() && !(await readFile(join(expected, rel))).equals(await readFile(join(actual, rel)))) {
      differences.push(`${label}: content differs`);
    }
    if (left.isSymbolicLink()) {
      const [from, to] = await Promise.all([link(join(expected, rel)), link(join(actual, rel))]);
      if (!from.equals(to)) differences.push(`${label}: link to ${from} became a link to ${to}`);
    }
    if (!left.isDirectory()) return;

    const names = await readdir(join(expected, rel), { encoding: 'buffer' });
    const wanted = names.filter((name) => !skip(child(rel, name).toString()));
    const present = await readdir(join(actual, rel), { encoding: 'buffer' });
    const wantedKeys = new Set(wanted.map((name) => name.toString('latin1')));
    for (const name of present) {
      if (!wantedKeys.has(name.toString('latin1'))) differences.push(`${child(rel, name).toString()}: unexpected`);
    }
    for (const name of wanted) await visit(child(rel, name));
  };

  await visit(Buffer.alloc(0));
  return differences;
}

export async function assertSameTree(expected: string, actual: string, options?: CompareTreesOptions): Promise<void> {
  assert.deepEqual(await compareTrees(expected, actual, options), [], `${actual} differs from ${expected}`);
}

function typeOf(stats: BigIntStats): string {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'special file';
}

function child(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, Buffer.from('/'), name]);
}

function join(root: string, rel: Buffer): Buffer {
  return rel.length === 0 ? Buffer.from(root) : Buffer.concat([Buffer.from(root), Buffer.from('/'), rel]);
}

function link(path: Buffer): Promise<Buffer> {
  return readlink(path, { encoding: 'buffer' });
}
