import { parseArchiveName } from '../backup/archive-name';

/** Names a run writes under before renaming (archives and, on remote targets, manifests). */
export const PARTIAL_PREFIX = '.partial-';

/**
 * Whether a file in a volume's folder is left from an interrupted run: a partial upload, a temporary
 * manifest, an archive without its manifest, or a manifest without its archive. `complete` holds the
 * names of the archives that are complete.
 */
export function isLeftover(name: string, complete: ReadonlySet<string>): boolean {
  return (
    name.startsWith(PARTIAL_PREFIX) ||
    /\.json\.tmp-/.test(name) ||
    (parseArchiveName(name) !== undefined && !complete.has(name)) ||
    (name.endsWith('.json') && !complete.has(name.slice(0, -'.json'.length)))
  );
}
