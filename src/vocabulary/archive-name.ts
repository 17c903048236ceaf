import type { Compression, Encryption } from './volume-options';

const EXTENSIONS: Record<Compression, string> = { gzip: '.tar.gz', zstd: '.tar.zst', none: '.tar' };
/** Archives, and the Swarm definitions that SWARM_EXPORT_SCHEDULE stores like one (NODE-STAMP.swarm.json). */
const ARCHIVE_NAME = /^(?<volume>.+)-(?<stamp>\d{8}T\d{6}Z)(?:\.tar(?:\.gz|\.zst)?(?:\.gpg|\.age)?|\.swarm\.json)$/;

/** `VOLUME-YYYYMMDDTHHMMSSZ.tar.gz` (contract: Archives), always in UTC so names sort by time. */
export function formatArchiveName(volume: string, createdAt: Date, compression: Compression, encryption: Encryption): string {
  const suffix = encryption === 'none' ? '' : `.${encryption}`;
  return `${volume}-${stampOf(createdAt)}${EXTENSIONS[compression]}${suffix}`;
}

/** `NODE-YYYYMMDDTHHMMSSZ.swarm.json`: a stored Swarm export, named and sorted like an archive. */
export function formatSwarmExportName(node: string, createdAt: Date): string {
  return `${node}-${stampOf(createdAt)}.swarm.json`;
}

function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** The volume (or node) and time an archive name carries, or undefined when it is not one of ours. */
export function parseArchiveName(name: string): { volume: string; createdAt: Date } | undefined {
  const match = ARCHIVE_NAME.exec(name);
  if (!match?.groups) return undefined;
  const s = match.groups.stamp;
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`;
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime())) return undefined;
  return { volume: match.groups.volume, createdAt };
}

/** The encryption an archive's name says (`.gpg`, `.age` or neither). */
export function encryptionOfArchive(name: string): Encryption {
  if (name.endsWith('.gpg')) return 'gpg';
  if (name.endsWith('.age')) return 'age';
  return 'none';
}

export function compressionOfArchive(name: string): Compression {
  if (/\.tar\.gz(\.|$)/.test(name)) return 'gzip';
  if (/\.tar\.zst(\.|$)/.test(name)) return 'zstd';
  return 'none';
}
