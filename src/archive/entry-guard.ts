
/** What the guard needs of a tar entry (TarReader's TarEntryHeader has these). */
export interface GuardedEntry {
  path: string;
  type: string;
  linkpath?: string;
}

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);
const SUPPORTED = new Set([...REGULAR, 'Directory', 'SymbolicLink', 'Link', 'FIFO']);

export function isRegularFile(type: string): boolean {
  return REGULAR.has(type);
}

/**
 * Decides, entry by entry and before anything is written, whether an archive may be extracted into a
 * volume. Refused: absolute paths and `..`, device nodes and unknown types, hard links to anything outside
 * the archive, relative symlinks that climb out of the volume, and any entry that would be written through
 * a symlink the archive created (the classic `link -> /etc` then `link/passwd`). Symlinks with an absolute
 * target are kept as they are: inside a container they name the container's own files (a volume holding
 * `current -> /app/releases/3` is ordinary), and extraction never follows a symlink.
 */
export class EntryGuard {
  /** Symlinks created so far, by normalized path: nothing may be written below them. */
  private readonly symlinks = new Set<string>();

  /** The entry's path relative to the volume root, normalized ('' for the root); throws, saying which entry and why, when it is unsafe. */
  check(entry: GuardedEntry): string {
    const path = normalizeEntryPath(entry.path, entry.path);
    if (!SUPPORTED.has(entry.type)) {
      const what = entry.type === 'CharacterDevice' || entry.type === 'BlockDevice' ? 'a device node' : `an unsupported entry type (${entry.type})`;
      throw new Error(`archive entry "${entry.path}" is ${what}; refusing to restore it`);
    }
    if (path === '' && entry.type !== 'Directory') {
      throw new Error(`archive entry "${entry.path}" would replace the volume root with a ${entry.type}`);
    }
    this.refuseThroughSymlink(path, entry.path);
    if (entry.type === 'Link') {
      const target = normalizeEntryPath(entry.linkpath ?? '', entry.path);
      if (target === '') throw new Error(`archive entry "${entry.path}" is a hard link to the volume root`);
      this.refuseThroughSymlink(target, entry.path);
    }
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '') throw new Error(`archive entry "${entry.path}" is a symlink without a target`);
      if (!target.startsWith('/') && climbsOut(path, target)) {
        throw new Error(`archive entry "${entry.path}" is a symlink to "${target}", outside the volume`);
      }
      this.symlinks.add(path);
    } else {
      // The same path given again as something else replaces the symlink (it is unlinked, not followed).
      this.symlinks.delete(path);
    }
    return path;
  }

  /** A hard link's target, normalized like a path (check() has already refused an unsafe one). */
  normalizeLinkTarget(entry: GuardedEntry): string {
    return normalizeEntryPath(entry.linkpath ?? '', entry.path);
  }

  /** Only ancestors count: a hard link to a symlink itself links the symlink, it does not follow it. */
  private refuseThroughSymlink(path: string, entryPath: string): void {
    if (this.symlinks.size === 0) return;
    const parts = path.split('/');
    for (let length = 1; length < parts.length; length++) {
      const ancestor = parts.slice(0, length).join('/');
      if (this.symlinks.has(ancestor)) {
        throw new Error(`archive entry "${entryPath}" goes through the symlink "${ancestor}"; refusing to follow it`);
      }
    }
  }
}

/**
 * `./a//b/` -> `a/b`; the root (`./`, `.`) -> ''. Absolute paths and `..` anywhere are refused rather
 * than rewritten: a rewritten path would restore a file somewhere its owner never had it.
 */
export function normalizeEntryPath(path: string, entryPath: string): string {
  if (path.startsWith('/')) throw new Error(`archive entry "${entryPath}" has an absolute path ("${path}")`);
  if (path.includes('\0')) throw new Error(`archive entry "${entryPath}" has a NUL byte in its path`);
  // Already normal, as nearly every entry is: no empty, '.' or '..' part can hide in it.
  if (!path.startsWith('.') && !path.endsWith('/') && !path.includes('//') && !path.includes('/.')) return path;
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new Error(`archive entry "${entryPath}" climbs out of the volume ("..")`);
  return parts.join('/');
}

/** Whether a relative symlink target, seen from the link's folder, leads above the volume root. */
function climbsOut(linkPath: string, target: string): boolean {
  let depth = linkPath.split('/').length - 1;
  for (const part of target.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}
