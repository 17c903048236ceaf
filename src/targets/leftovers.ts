import { manifestName, newestFirst, type ArchiveManifest } from '../vocabulary/archive-manifest';
import { parseArchiveName } from '../vocabulary/archive-name';
import type { StoredArchive } from './target';

/** Names a run writes under before renaming (archives and, on remote targets, manifests). */
export const PARTIAL_PREFIX = '.partial-';

/**
 * Whether a file in a volume's folder is left from an interrupted run: a partial upload, a temporary
 * manifest, an archive without its manifest, or a manifest without its archive (a stored Swarm export is
 * itself a .json: an archive, not a manifest). `complete` holds the
 * names of the archives that are complete.
 */
export function isLeftover(name: string, complete: ReadonlySet<string>): boolean {
  return (
    name.startsWith(PARTIAL_PREFIX) ||
    /\.json\.tmp-/.test(name) ||
    (parseArchiveName(name) !== undefined && !complete.has(name)) ||
    (name.endsWith('.json') && parseArchiveName(name) === undefined && !complete.has(name.slice(0, -'.json'.length)))
  );
}

/**
 * The complete archives among the names of a volume's folder, newest first: those whose manifest is
 * there, parses and names them. `readManifest` gets a manifest's name and returns its text, or undefined
 * when it is gone. A manifest that cannot be read for another reason (a target that does not answer) is
 * an error, not an incomplete archive: removeIncomplete would otherwise delete a complete backup over a
 * passing failure.
 */
export async function completeArchives(names: readonly string[], readManifest: (name: string) => Promise<string | undefined>): Promise<StoredArchive[]> {
  const present = new Set(names);
  const archives: StoredArchive[] = [];
  for (const name of names) {
    if (!parseArchiveName(name) || !present.has(manifestName(name))) continue;
    const text = await readManifest(manifestName(name));
    const manifest = text === undefined ? undefined : parseManifest(text);
    if (manifest?.archive === name) archives.push({ name, manifest });
  }
  return archives.sort(newestFirst);
}

/** A manifest that is not JSON (damaged) leaves its archive incomplete. */
function parseManifest(text: string): ArchiveManifest | undefined {
  try {
    return JSON.parse(text) as ArchiveManifest;
  } catch {
    return undefined;
  }
}
