import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { selectPrunable } from '../retention/select-prunable';
import type { Target } from '../../targets/target';
import type { ArchiveManifest } from '../../vocabulary/archive-manifest';
import { formatSwarmExportName } from '../../vocabulary/archive-name';
import type { RetentionPolicy } from '../../vocabulary/retention-policy';
import { countDefinitions, type SwarmDefinitions } from '../../vocabulary/swarm-definitions';

/** The folder of a target under which each node's exports go (`_swarm/NODE/`): no volume name starts with `_`. */
export const SWARM_FOLDER = '_swarm';

export interface StoredExport {
  target: string;
  /** `_swarm/NODE/NODE-STAMP.swarm.json` */
  path?: string;
  error?: string;
  /** Older exports the retention removed. */
  pruned: string[];
}

/**
 * Writes the export to each target the way an archive is written (invisible until committed, complete
 * once its manifest is there), then prunes that node's exports with the retention an archive gets. A
 * target that fails is reported and the others still get the export.
 */
export async function storeSwarmExport(targets: readonly Target[], document: SwarmDefinitions, retention: RetentionPolicy, now: Date = new Date()): Promise<StoredExport[]> {
  const folder = `${SWARM_FOLDER}/${document.node}`;
  const name = formatSwarmExportName(document.node, now);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const manifest = manifestOf(document, name, text, now);
  const stored: StoredExport[] = [];
  for (const target of targets) {
    try {
      await target.removeIncomplete(folder);
      const upload = await target.beginUpload(folder, name);
      try {
        await pipeline(Readable.from([text]), upload.stream);
        await upload.commit();
      } catch (error) {
        await upload.abort().catch(() => undefined);
        throw error;
      }
      await target.writeManifest(folder, manifest);
      const pruned = await prune(target, folder, retention, now);
      stored.push({ target: target.name, path: `${folder}/${name}`, pruned });
    } catch (error) {
      stored.push({ target: target.name, error: (error as Error).message, pruned: [] });
    }
  }
  return stored;
}

async function prune(target: Target, folder: string, retention: RetentionPolicy, now: Date): Promise<string[]> {
  const stored = await target.list(folder);
  const prunable = selectPrunable(
    stored.map(({ name, manifest }) => ({ name, createdAt: new Date(manifest.created) })),
    retention,
    now,
  );
  for (const name of prunable) await target.remove(folder, name);
  return prunable;
}

/** An archive's manifest, so that listing, retention and leftovers treat the export as they treat archives. */
function manifestOf(document: SwarmDefinitions, name: string, text: string, now: Date): ArchiveManifest {
  return {
    volume: SWARM_FOLDER,
    archive: name,
    options: { contents: countDefinitions(document) },
    created: now.toISOString(),
    bytes: Buffer.byteLength(text),
    fileCount: document.services.length + document.networks.length + document.configs.length + document.secrets.length,
    sha256: createHash('sha256').update(text).digest('hex'),
    compression: 'none',
    encryption: 'none',
    snapshotMode: 'none',
    quiesced: false,
    durations: { totalMs: 0, downtimeMs: 0 },
    stopped: { containers: [] },
    kind: 'full',
  };
}
