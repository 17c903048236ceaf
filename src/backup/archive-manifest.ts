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
  durations: { totalMs: number; downtimeMs: number };
  stopped: { containers: string[] };
}

export function manifestName(archive: string): string {
  return `${archive}.json`;
}
