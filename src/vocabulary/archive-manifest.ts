import type { PhaseTimings } from './run-phases';

/** `ARCHIVE.json`, written beside each archive, last: its presence is what makes an archive complete. */
export interface ArchiveManifest {
  volume: string;
  archive: string;
  /** The volume's options as given at create (never secrets: options are public in `docker volume inspect`). */
  options: Record<string, string>;
  created: string;
  bytes: number;
  fileCount: number;
  sha256: string;
  compression: string;
  encryption: string;
  snapshotMode: string;
  fellBackReason?: string;
  quiesced: boolean;
  /** phases: those that ran before the manifest was written (absent in manifests from before phases). */
  durations: { totalMs: number; downtimeMs: number; phases?: PhaseTimings };
  /**
   * Names of the containers stopped and services scaled to 0, with their definitions (environment
   * variable names only) so that a lost stack can be recreated from the backup.
   */
  stopped: { containers: string[]; services?: string[]; specs?: StoppedSpecs };
  /** Absent in manifests written before incremental chains: those archives are all full. */
  kind?: ArchiveKind;
  /** The archive this incremental applies on; absent for a full one. */
  base?: string;
  /** The archive names from the chain's full archive up to and including this one. */
  chain?: string[];
}

export type ArchiveKind = 'full' | 'incremental';

export function manifestName(archive: string): string {
  return `${archive}.json`;
}

/**
 * Sorts archives newest first by `created` (ISO 8601 in UTC, so its characters sort as its times do).
 * Not localeCompare: that loads ICU's collation into the plugin for every listing, ~3 MiB of RSS.
 */
export function newestFirst(a: { manifest: Pick<ArchiveManifest, 'created'> }, b: { manifest: Pick<ArchiveManifest, 'created'> }): number {
  if (a.manifest.created === b.manifest.created) return 0;
  return a.manifest.created < b.manifest.created ? 1 : -1;
}

/** What was stopped, as the manifest keeps it (seed 002: service definitions go with the backup). */
export interface StoppedSpecs {
  containers: Record<string, unknown>[];
  services: Record<string, unknown>[];
}
