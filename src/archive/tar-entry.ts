export type TarEntryType = 'File' | 'Link' | 'SymbolicLink' | 'Directory' | 'FIFO';

/** What the archive stores about one path. */
export interface TarEntryMeta {
  /** Relative to the volume root, '/'-separated. */
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content that follow the header: 0 for everything but regular files. */
  size: number;
  mtime: Date;
  /** Target of a symlink, or the first archived path of a hard-linked file. */
  linkpath?: string;
}

/**
 * What the manifest's file count counts: regular files, hard links included (each is a name a user
 * sees), not directories, symlinks or FIFOs. Writer and verifier share this so their counts agree.
 */
export function countsAsFile(type: string): boolean {
  return type === 'File' || type === 'Link' || type === 'OldFile' || type === 'ContiguousFile';
}
