import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, run } from './docker-cli';
import { REPO_ROOT } from './plugin';

const DOCKERD_PIDFILE = '/var/run/docker.pid';

/**
 * Stops the running dockerd (by the pid it recorded itself) and starts it again the way
 * scripts/ensure-docker.sh does, then waits until it answers. Containers with a restart policy and enabled
 * plugins come back as they would after a host reboot.
 */
export async function restartDockerd(): Promise<void> {
  const pid = Number((await readFile(DOCKERD_PIDFILE, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no usable pid in ${DOCKERD_PIDFILE}`);
  process.kill(pid, 'SIGTERM');
  await waitForExit(pid, 90_000);
  await run('bash', [join(REPO_ROOT, 'scripts', 'ensure-docker.sh')], { timeoutMs: 180_000 });
  await docker(['info', '--format', '{{.ServerVersion}}']);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return;
    await sleep(250);
  }
  throw new Error(`dockerd ${pid} did not exit within ${timeoutMs / 1000}s of SIGTERM`);
}

/** Alive and not a zombie: a dockerd started with setsid may be reparented to an init that reaps late. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
