import { fileSystemSpace, type FileSystemSpace } from './file-system-space';
import { measureTree, type TreeSize } from './measure-tree';
import { canReflink } from './reflink-probe';

/** How the room check sees the disks; tests pass their own. */
export interface SpaceProbes {
  fileSystemSpace(dir: string): Promise<FileSystemSpace>;
  canReflink(input: { source: string; stagingDir: string }): Promise<boolean>;
}

export const SYSTEM_SPACE_PROBES: SpaceProbes = { fileSystemSpace, canReflink };

/**
 * Kept free beyond the copy's own bytes: the volume goes on growing while it is copied, directories take
 * blocks the byte count misses, and the staging filesystem is often the one the containers write to.
 */
export const HEADROOM_BYTES = 256 * 1024 * 1024;

export type RoomVerdict = { enough: true } | { enough: false; reason: string };

/**
 * Whether `stagingDir` has room for a copy of `source`, counting what `alreadyCopied` (the sync mirror)
 * holds as already there. Cheapest answers first: a reflink copy needs no data blocks; a staging
 * filesystem with room for everything on the volume's filesystem needs no walk; only then are the volume
 * and the mirror measured.
 */
export async function checkRoomForCopy(input: {
  source: string;
  stagingDir: string;
  alreadyCopied?: string;
  exclude: readonly string[];
  probes: SpaceProbes;
}): Promise<RoomVerdict> {
  const { source, stagingDir, probes } = input;
  if (await probes.canReflink({ source, stagingDir })) return { enough: true };
  const [staging, sourceFileSystem] = await Promise.all([
    probes.fileSystemSpace(stagingDir),
    probes.fileSystemSpace(source),
  ]);
  const everything = { bytes: sourceFileSystem.usedBytes, entries: sourceFileSystem.usedInodes };
  if (shortfall(staging, everything) === undefined) return { enough: true };

  const [volume, held] = await Promise.all([
    measureTree({ root: source, exclude: input.exclude }),
    input.alreadyCopied ? measureTree({ root: input.alreadyCopied }) : Promise.resolve<TreeSize>({ bytes: 0, entries: 0 }),
  ]);
  const missing = shortfall(staging, {
    bytes: Math.max(0, volume.bytes - held.bytes),
    entries: Math.max(0, volume.entries - held.entries),
  });
  if (missing === undefined) return { enough: true };
  return { enough: false, reason: `not enough room in ${stagingDir} for a copy of the volume: ${missing}` };
}

/** What the staging filesystem lacks for `needed`, in words; undefined when it has room. */
function shortfall(staging: FileSystemSpace, needed: { bytes: number; entries: number | null }): string | undefined {
  const bytes = needed.bytes + HEADROOM_BYTES;
  if (staging.availableBytes < bytes) {
    return `it needs ${formatBytes(bytes)} (with ${formatBytes(HEADROOM_BYTES)} headroom), ${formatBytes(staging.availableBytes)} is available`;
  }
  if (staging.availableInodes === null) return undefined;
  if (needed.entries === null) return 'the number of files it needs is unknown';
  if (staging.availableInodes < needed.entries) {
    return `it needs ${needed.entries} inodes, ${staging.availableInodes} are available`;
  }
  return undefined;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
