import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the outside file holds: any copy of it in a mirror or an archive is an escape. */
export const OUTSIDE_CONTENT = 'OUTSIDE THE VOLUME';

/**
 * Swaps, as fast as it can, the folder `swapped-dir` and the file `swapped-file` of `root` for symlinks to
 * a folder outside it and to the file in there, and back: what a container that rearranges its volume while
 * the plugin walks it does. Each rename is atomic, so at any instant the name is the real entry, the
 * symlink, or briefly missing. Bounded: the child stops by itself after `maxMs`.
 */
const SWAP_SCRIPT = `
const { renameSync } = require('node:fs');
const [root, maxMs] = [process.argv[1], Number(process.argv[2])];
const deadline = Date.now() + maxMs;
const swap = (name) => {
  try {
    renameSync(root + '/' + name, root + '/.real-' + name);
    renameSync(root + '/.link-' + name, root + '/' + name);
    renameSync(root + '/' + name, root + '/.link-' + name);
    renameSync(root + '/.real-' + name, root + '/' + name);
  } catch {}
};
while (Date.now() < deadline) { swap('swapped-dir'); swap('swapped-file'); }
`;

export interface Swapper {
  stop(): Promise<void>;
}

/** Prepares `root` (a volume) and `outside` (a host folder), then starts swapping. */
export async function startSymlinkSwapper(root: string, outside: string, maxMs = 60_000): Promise<Swapper> {
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'content'), OUTSIDE_CONTENT);
  await mkdir(join(root, 'swapped-dir'));
  await writeFile(join(root, 'swapped-dir/content'), 'inside');
  await writeFile(join(root, 'swapped-file'), 'inside');
  await symlink(outside, join(root, '.link-swapped-dir'));
  await symlink(join(outside, 'content'), join(root, '.link-swapped-file'));
  const child: ChildProcess = spawn(process.execPath, ['-e', SWAP_SCRIPT, root, String(maxMs)], { stdio: 'ignore' });
  return {
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/** Paths of the regular files below `root` whose content is the outside file's. */
export async function filesWithOutsideContent(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if ((await readFile(path, 'utf8').catch(() => '')) === OUTSIDE_CONTENT) found.push(path);
  }
  return found;
}
