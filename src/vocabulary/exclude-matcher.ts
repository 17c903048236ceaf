import { Minimatch } from 'minimatch';

/** Tells whether a path relative to the volume root is excluded; `isDirectory` lets `name/` patterns match. */
export type ExcludeMatcher = (relativePath: string, isDirectory: boolean) => boolean;

/**
 * Compiles `backup-exclude` globs with the semantics people know from .gitignore and `tar --exclude`:
 * a pattern without a slash (`*.log`, `cache`) matches that name at any depth; a pattern with one
 * (`data/tmp`, `logs/**.gz`) is anchored at the volume root; a trailing slash (`cache/`) matches only
 * directories. `*` matches dotfiles too: a volume has no notion of hidden files worth protecting.
 * Matching a directory excludes everything below it: the walker does not enter it.
 *
 * Here, below archive and snapshot, because both must match alike: the mirror worker reaching it through
 * the archive library's door would load all of that library at every pass (~12 ms of sync downtime).
 */
export function createExcludeMatcher(globs: readonly string[]): ExcludeMatcher {
  const patterns = globs.map(compile);
  if (patterns.length === 0) return () => false;
  return (relativePath, isDirectory) =>
    patterns.some((pattern) => (isDirectory || !pattern.directoriesOnly) && pattern.glob.match(relativePath));
}

interface Pattern {
  glob: Minimatch;
  directoriesOnly: boolean;
}

function compile(glob: string): Pattern {
  const directoriesOnly = glob.endsWith('/');
  const trimmed = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  const anchored = trimmed.includes('/');
  return {
    glob: new Minimatch(trimmed, { dot: true, matchBase: !anchored, nocomment: true, nonegate: true }),
    directoriesOnly,
  };
}
