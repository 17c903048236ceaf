import type { RetentionPolicy } from './retention-policy';

/** The names of a volume's options, once parsed (volumes/volume-options.ts parses and validates them). */
export type Compression = 'gzip' | 'zstd' | 'none';
export type Encryption = 'none' | 'gpg' | 'age';
export type TargetName = 'local' | 's3' | 'sftp' | 'webdav';
export type StopPolicy = 'attached' | 'labelled' | 'none';
export type SnapshotMode = 'sync' | 'copy' | 'direct';
/**
 * backup-full-every: a full archive, then incrementals on it until the chain holds `count` archives, or
 * until the chain's full archive is `maxAgeMs` old. `{ count: 1 }` makes every archive full.
 */
export type FullEvery = { count: number } | { maxAgeMs: number };

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
  fullEvery: FullEvery;
  restoreFrom: string | null;
  /** Read back and check each new archive before the run counts as a success. */
  verify: boolean;
  /** backup-drill: when unattended restore drills run (a cron expression), or null for none. */
  drill: string | null;
}
