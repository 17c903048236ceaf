import type { RetentionPolicy } from './retention-policy';

/** The names of a volume's options, once parsed (volumes/volume-options.ts parses and validates them). */
export type Compression = 'gzip' | 'zstd' | 'none';
export type Encryption = 'none' | 'gpg' | 'age';
export type TargetName = 'local' | 's3' | 'sftp' | 'webdav';
export type StopPolicy = 'attached' | 'labelled' | 'none';
export type SnapshotMode = 'sync' | 'copy' | 'direct';

export interface VolumeOptions {
  /** A cron expression node-cron accepts, or null for no schedule. */
  schedule: string | null;
  retention: RetentionPolicy;
  targets: TargetName[];
  compression: Compression;
  encryption: Encryption;
  stop: StopPolicy;
  stopLabel: string;
  snapshot: SnapshotMode;
  exclude: string[];
  jitterMs: number;
  restoreFrom: string | null;
  /** Read back and check each new archive before the run counts as a success. */
  verify: boolean;
}
