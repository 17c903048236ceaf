import { checkRoomForCopy, SYSTEM_SPACE_PROBES, type RoomVerdict } from './check-room';
import { copySnapshot, directSnapshot, syncSnapshot, timed, type Snapshot, type SnapshotRequest } from './snapshot';
import { prepareStaging } from './staging-layout';
import { removeTree } from '../shared/remove-tree';

/**
 * Takes a consistent snapshot of a volume in the requested mode, stopping the containers through
 * `request.quiesce` for as short a time as the mode allows. sync and copy need room for a second copy of
 * the volume; without it the snapshot is taken directly, and fellBackReason says why, rather than filling
 * the disk. The caller archives `archiveRoot` and then calls `release()`, also when archiving failed.
 */
export async function takeSnapshot(request: SnapshotRequest): Promise<Snapshot> {
  const layout = await prepareStaging({ stagingDir: request.stagingDir, keepMirror: request.mode === 'sync' });
  if (request.mode === 'direct') return directSnapshot(request);

  const room = await timed(request, 'room-check', () => checkRoom(request, layout.mirror));
  if (!room.enough) {
    const reason = `${room.reason}; took a direct snapshot instead`;
    request.logger?.warn(`Snapshot of ${request.source}: ${reason}`);
    // A mirror that cannot be brought up to date only holds disk that the containers may need.
    await removeTree(layout.mirror);
    return directSnapshot(request, { reason });
  }
  const staged = request.mode === 'sync' ? layout.mirror : layout.copy;
  try {
    return await (request.mode === 'sync' ? syncSnapshot(request, layout) : copySnapshot(request, layout));
  } catch (error) {
    if (!isOutOfRoom(error)) throw error;
    // The room check passed, but the volume grew meanwhile, or the staging filesystem filled up from
    // elsewhere: the containers are running again (whileQuiesced), and a partial copy would only keep
    // the disk full and be counted as already copied by the next room check.
    await removeTree(staged);
    const reason = `the staging folder ran out of room during the ${request.mode} pass (${(error as Error).message}); removed the partial ${request.mode === 'sync' ? 'mirror' : 'copy'} and took a direct snapshot instead`;
    request.logger?.warn(`Snapshot of ${request.source}: ${reason}`);
    return directSnapshot(request, { reason });
  }
}

/** ENOSPC or EDQUOT anywhere in the error's chain of causes (the mirror worker's error is wrapped). */
function isOutOfRoom(error: unknown): boolean {
  for (let current = error as { code?: string; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (current.code === 'ENOSPC' || current.code === 'EDQUOT') return true;
  }
  return false;
}

/** A room check that cannot tell (statfs or a walk failing) falls back too: a direct backup beats none. */
async function checkRoom(request: SnapshotRequest, mirror: string): Promise<RoomVerdict> {
  try {
    return await checkRoomForCopy({
      source: request.source,
      stagingDir: request.stagingDir,
      alreadyCopied: request.mode === 'sync' ? mirror : undefined,
      exclude: request.exclude ?? [],
      probes: request.probes ?? SYSTEM_SPACE_PROBES,
    });
  } catch (error) {
    return { enough: false, reason: `could not check the room for a copy (${(error as Error).message})` };
  }
}
