import type { Logger } from '../shared/logger';
import type { Resume } from '../engine/stop-containers';
import type { SnapshotMode } from '../vocabulary/volume-options';
import type { SpaceProbes } from './check-room';
import type { SyncStats } from './sync-mirror';

export interface SnapshotRequest {
  mode: SnapshotMode;
  /** The volume's data directory. */
  source: string;
  /**
   * This volume's own staging folder, owned by the snapshot: it keeps the sync mirror between runs and
   * holds a copy while it is archived; anything else found in it is a leftover and is removed.
   */
  stagingDir: string;
  /** `backup-exclude`: left out of the staging tree (for direct, the archive step leaves them out). */
  exclude?: readonly string[];
  /** Stops what uses the volume and returns the function that starts exactly that again. */
  quiesce: () => Promise<Resume>;
  logger?: Logger;
  /** How free space and reflink support are found out; tests inject their own. */
  probes?: SpaceProbes;
}

/** A consistent tree to archive. Whatever happens to the archive, call release() once it is done with. */
export interface Snapshot {
  /** The tree to archive: the mirror (sync), the staging copy (copy) or the volume itself (direct). */
  archiveRoot: string;
  modeUsed: SnapshotMode;
  /** Set when sync or copy was asked for and direct was taken instead, saying why. */
  fellBackReason?: string;
  /** From asking the containers to stop until they run again; for direct, final once release() resolved. */
  readonly downtimeMs: number;
  /** What was copied while the containers were stopped (sync: the changes only; copy: everything). */
  downtimeCopy?: SyncStats;
  /**
   * direct: starts the containers again (they stay stopped while the caller archives). copy: deletes the
   * staging copy. sync: nothing, the mirror stays for the next run. Rejects when the restart fails.
   */
  release(): Promise<void>;
}
