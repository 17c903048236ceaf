import { join, resolve } from 'node:path';
import { docker, run } from './docker-cli';
import { eventually } from './eventually';

/** The name the suite installs the plugin under, as users do (`--alias backupvol`). */
export const PLUGIN = 'backupvol';

/** The repository root (this file runs as dist/test/helpers/plugin.js). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** What `make rootfs` assembles and `docker plugin create` reads. */
export const PLUGIN_DIR = join(REPO_ROOT, 'plugin');

/** Volume data and state on the host, outside the plugin (the default data mount). */
export const HOST_DATA_DIR = '/var/lib/backupvol';

export function hostVolumeDir(volume: string): string {
  return join(HOST_DATA_DIR, 'volumes', volume);
}

/** The engine reports a managed plugin's driver as NAME:TAG. */
export function isPluginDriver(driver: string): boolean {
  return driver === PLUGIN || driver === `${PLUGIN}:latest`;
}

export async function pluginExists(name: string = PLUGIN): Promise<boolean> {
  try {
    await docker(['plugin', 'inspect', '--format', '{{.Id}}', name]);
    return true;
  } catch {
    return false;
  }
}

export async function pluginId(name: string = PLUGIN): Promise<string> {
  return (await docker(['plugin', 'inspect', '--format', '{{.Id}}', name])).trim();
}

export async function pluginEnabled(name: string = PLUGIN): Promise<boolean> {
  return (await docker(['plugin', 'inspect', '--format', '{{.Enabled}}', name])).trim() === 'true';
}

/** Removes the plugin NAME if it is installed, enabled or not, in use or not. */
export async function removePlugin(name: string = PLUGIN): Promise<void> {
  if (await pluginExists(name)) await docker(['plugin', 'rm', '-f', name]);
}

/** Creates NAME from plugin/ (disabled). */
export async function createPlugin(name: string = PLUGIN): Promise<void> {
  await docker(['plugin', 'create', name, PLUGIN_DIR]);
}

export async function enablePlugin(name: string = PLUGIN): Promise<void> {
  await docker(['plugin', 'enable', '--timeout', '60', name]);
}

/**
 * Installs the plugin built in plugin/ afresh as `backupvol` and enables it: whatever was installed under
 * that name before (an older build, one from a registry) is removed first. Volumes survive this.
 */
export async function installFreshPlugin(): Promise<string> {
  await removePlugin(PLUGIN);
  await createPlugin(PLUGIN);
  await enablePlugin(PLUGIN);
  return pluginId(PLUGIN);
}

/** The plugin's propagatedMount (config.json): what the plugin mounts there, the engine sees. */
export const PLUGIN_MOUNT_ROOT = '/mnt/volumes';

/**
 * The host path of a Mountpoint the plugin reported (`docker volume inspect` shows it as the plugin sees
 * it, under /mnt/volumes): the plugin's propagated-mount folder in the engine's root.
 */
export async function hostPathOfMountpoint(mountpoint: string, name: string = PLUGIN): Promise<string> {
  const dockerRoot = (await docker(['info', '--format', '{{.DockerRootDir}}'])).trim();
  if (mountpoint.startsWith(`${dockerRoot}/plugins/`)) return mountpoint;
  if (!mountpoint.startsWith(`${PLUGIN_MOUNT_ROOT}/`)) {
    throw new Error(`the Mountpoint ${mountpoint} is not under the propagated mount ${PLUGIN_MOUNT_ROOT}`);
  }
  const relative = mountpoint.slice(PLUGIN_MOUNT_ROOT.length + 1);
  return join(dockerRoot, 'plugins', await pluginId(name), 'propagated-mount', relative);
}

/** `pgrep -f` pattern of the plugin's Node process (config.json's entrypoint, whatever Node flags it gives). */
export const PLUGIN_PROCESS = '^/usr/bin/node .*/app/dist/src/main.js';

/** The pid of the plugin's Node process on the host, when exactly one runs. */

export async function pluginPid(): Promise<number | undefined> {
  try {
    const pids = (await run('pgrep', ['-f', PLUGIN_PROCESS])).split('\n').filter(Boolean);
    return pids.length === 1 ? Number(pids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs the plugin's Node process, as the OOM killer or a crash would; returns its pid. */
export async function killPlugin(): Promise<number> {
  const pid = await pluginPid();
  if (pid === undefined) throw new Error('the plugin process is not found');
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** Waits until the engine has started the plugin again after `killed` (a new process). */
export async function waitForPluginRestart(killed: number): Promise<void> {
  await eventually('the engine restarted the plugin', async () => {
    const pid = await pluginPid();
    return pid !== undefined && pid !== killed;
  }, 60_000);
}
