import { stat } from 'node:fs/promises';
import { docker, dockerJson } from './docker-cli';
import { TEST_IMAGE } from './test-image';

/** The parts of `docker volume inspect` the tests look at. */
export interface VolumeInspect {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Options: Record<string, string> | null;
  Status?: Record<string, unknown>;
}

export async function inspectVolume(name: string): Promise<VolumeInspect> {
  const [volume] = await dockerJson<VolumeInspect[]>(['volume', 'inspect', name]);
  return volume;
}

/** Names in `docker volume ls`: what the engine lists, which for a plugin volume is what the plugin lists. */
export async function volumeNames(): Promise<string[]> {
  return (await docker(['volume', 'ls', '--format', '{{.Name}}'])).split('\n').filter((name) => name !== '');
}

/** Writes CONTENT to FILE in VOLUME from a throwaway container. */
export async function writeInVolume(volume: string, file: string, content: string): Promise<void> {
  await docker(['run', '--rm', '-i', '-v', `${volume}:/data`, TEST_IMAGE, 'tee', `/data/${file}`], { input: content });
}

/** Reads FILE in VOLUME from a throwaway container. */
export async function readInVolume(volume: string, file: string): Promise<string> {
  return docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'cat', `/data/${file}`]);
}

/** True when PATH is a mount of DIR: a bind mount's root is the directory itself (same device and inode). */
export async function isMountOf(path: string, dir: string): Promise<boolean> {
  try {
    const [mounted, source] = await Promise.all([stat(path), stat(dir)]);
    return mounted.dev === source.dev && mounted.ino === source.ino;
  } catch {
    return false;
  }
}
