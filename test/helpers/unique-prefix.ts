import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { docker } from './docker-cli';

/**
 * Every Docker object a test creates is named PREFIX-something, with a prefix of its own (`bvt-1a2b3c4d-`),
 * so that cleanup removes exactly what the test made and tests never touch anyone else's objects.
 */
export function uniquePrefix(): string {
  return `bvt-${randomBytes(4).toString('hex')}-`;
}

/**
 * A fresh prefix whose containers, volumes and networks are removed when the enclosing test file
 * finishes (like makeTempDir).
 */
export function useUniquePrefix(): string {
  const prefix = uniquePrefix();
  after(() => removeObjectsWithPrefix(prefix));
  return prefix;
}

/** Removes containers, then volumes, then networks whose names start with PREFIX. Best effort, but loud. */
export async function removeObjectsWithPrefix(prefix: string): Promise<void> {
  const problems: string[] = [];
  const names = async (args: string[]): Promise<string[]> =>
    (await docker(args))
      .split('\n')
      .map((name) => name.trim())
      .filter((name) => name.startsWith(prefix));
  const remove = async (kind: string, args: string[], list: string[]): Promise<void> => {
    for (const name of list) {
      try {
        await docker([...args, name]);
      } catch (error) {
        problems.push(`${kind} ${name}: ${(error as Error).message}`);
      }
    }
  };
  await remove('container', ['rm', '-f', '-v'], await names(['ps', '-a', '--format', '{{.Names}}']));
  await remove('volume', ['volume', 'rm', '-f'], await names(['volume', 'ls', '--format', '{{.Name}}']));
  await remove('network', ['network', 'rm'], await names(['network', 'ls', '--format', '{{.Name}}']));
  // Archives outlive their volume by design; the ones a test made go with the test.
  const archiveRoot = '/var/lib/backupvol/archive';
  for (const folder of (await readdir(archiveRoot).catch(() => [] as string[])).filter((name) => name.startsWith(prefix))) {
    await rm(join(archiveRoot, folder), { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`cleanup of ${prefix}* left objects behind:\n  ${problems.join('\n  ')}`);
  }
}
