import { randomBytes } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { docker } from './docker-cli';
import { eventually } from './eventually';

/** How long the task containers of a removed service may take to go (Swarm stops them one by one). */
const TASKS_GONE_TIMEOUT_MS = 30_000;

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

/**
 * Archive folders named PREFIX* in the local target, and under node folders (Swarm mode files archives
 * under NODE/VOLUME); a node folder left empty goes too.
 */
async function removeArchiveFolders(archiveRoot: string, prefix: string): Promise<void> {
  for (const entry of await readdir(archiveRoot, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const path = join(archiveRoot, entry.name);
    if (entry.name.startsWith(prefix)) {
      await rm(path, { recursive: true, force: true });
      continue;
    }
    const inside = await readdir(path).catch(() => [] as string[]);
    const ours = inside.filter((name) => name.startsWith(prefix));
    for (const name of ours) await rm(join(path, name), { recursive: true, force: true });
    if (ours.length > 0 && ours.length === inside.length) await rmdir(path).catch(() => undefined);
  }
}

/** Removes services, containers, then volumes, then networks whose names start with PREFIX. Best effort, but loud. */
export async function removeObjectsWithPrefix(prefix: string): Promise<void> {
  const problems: string[] = [];
  const names = async (args: string[]): Promise<string[]> =>
    (await docker(args))
      .split('\n')
      .map((name) => name.trim())
      .filter((name) => name.startsWith(prefix));
  /** Returns the names it removed. */
  const remove = async (kind: string, args: string[], list: string[]): Promise<string[]> => {
    const removed: string[] = [];
    for (const name of list) {
      try {
        await docker([...args, name]);
        removed.push(name);
      } catch (error) {
        problems.push(`${kind} ${name}: ${(error as Error).message}`);
      }
    }
    return removed;
  };
  // Swarm services first: their task containers would otherwise come back. Not in a swarm: nothing to list.
  const services = await names(['service', 'ls', '--format', '{{.Name}}']).catch(() => [] as string[]);
  const removedServices = await remove('service', ['service', 'rm'], services);
  // `service rm` returns before Swarm has removed the tasks: removing a task container by hand would race
  // Swarm's own removal, and the volume it mounts would still be in use.
  await Promise.all(
    removedServices.map((service) =>
      eventually(
        `the task containers of service ${service} are gone`,
        async () => (await docker(['ps', '--all', '--quiet', '--filter', `label=com.docker.swarm.service.name=${service}`])).trim() === '',
        TASKS_GONE_TIMEOUT_MS,
      ).catch((error: Error) => problems.push(error.message)),
    ),
  );
  await remove('container', ['rm', '-f', '-v'], await names(['ps', '-a', '--format', '{{.Names}}']));
  await remove('volume', ['volume', 'rm', '-f'], await names(['volume', 'ls', '--format', '{{.Name}}']));
  await remove('network', ['network', 'rm'], await names(['network', 'ls', '--format', '{{.Name}}']));
  // Archives outlive their volume by design; the ones a test made go with the test.
  await removeArchiveFolders('/var/lib/backupvol/archive', prefix);
  if (problems.length > 0) {
    console.error(`cleanup of ${prefix}* left objects behind:\n  ${problems.join('\n  ')}`);
  }
}
