import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Makes a volume's data folder appear at its mountpoint, which the engine sees through propagatedMount. */
export interface Mounter {
  isMounted(source: string, target: string): Promise<boolean>;
  bind(source: string, target: string): Promise<void>;
  unbind(target: string): Promise<void>;
}

/** The real mounter: `mount --bind` and `umount` (busybox in the plugin rootfs). Needs CAP_SYS_ADMIN. */
export class BindMounter implements Mounter {
  /** A bind mount's root is the source directory itself: same device, same inode. */
  async isMounted(source: string, target: string): Promise<boolean> {
    try {
      const [from, to] = await Promise.all([stat(source), stat(target)]);
      return from.dev === to.dev && from.ino === to.ino;
    } catch {
      return false;
    }
  }

  async bind(source: string, target: string): Promise<void> {
    await runOrExplain('mount', ['--bind', source, target]);
  }

  async unbind(target: string): Promise<void> {
    await runOrExplain('umount', [target]);
  }
}

async function runOrExplain(command: string, args: string[]): Promise<void> {
  try {
    await run(command, args);
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}
