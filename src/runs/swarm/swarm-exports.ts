import type { StopJournal } from '../../engine/stop-journal';
import type { Logger } from '../../shared/logger';
import type { Target } from '../../targets/target';
import type { RetentionPolicy } from '../../vocabulary/retention-policy';
import { countDefinitions, parseSwarmDefinitions, type SwarmDefinitions } from '../../vocabulary/swarm-definitions';
import type { TargetName } from '../../vocabulary/volume-options';
import { exportSwarmDefinitions, type SwarmSources } from './export-definitions';
import { recreateSwarmDefinitions, type RecreateReport } from './recreate-definitions';
import { storeSwarmExport } from './stored-exports';

export interface SwarmExportsDeps {
  sources: SwarmSources;
  /** Where a scheduled export goes: the targets of the volumes (see targetsOfVolumes), without node folders. */
  exportTargets(): Target[];
  /** The retention of stored exports (DEFAULT_RETENTION); read at each run, so a bad setting fails that run only. */
  retention(): RetentionPolicy;
  logger: Logger;
}

/** `backupvol swarm export` and `swarm recreate`, and the export SWARM_EXPORT_SCHEDULE stores. */
export class SwarmExports {
  constructor(private readonly deps: SwarmExportsDeps) {}

  export(): Promise<SwarmDefinitions> {
    return exportSwarmDefinitions(this.deps.sources);
  }

  recreate(document: unknown, dryRun: boolean): Promise<RecreateReport> {
    return recreateSwarmDefinitions(this.deps.sources, parseSwarmDefinitions(document), dryRun);
  }

  /** A scheduled export: only a manager has the definitions; anywhere else the run is skipped and says why. */
  async runScheduled(now: Date = new Date()): Promise<void> {
    const { logger } = this.deps;
    try {
      const info = await this.deps.sources.docker.swarmInfo();
      if (!info.active) {
        logger.debug('SWARM_EXPORT_SCHEDULE: skipped, this node is not in a swarm');
        return;
      }
      if (!info.manager) {
        logger.info(`SWARM_EXPORT_SCHEDULE: skipped, ${info.nodeName} is a worker node (a manager exports the swarm)`);
        return;
      }
      const document = await exportSwarmDefinitions(this.deps.sources, now, info);
      const stored = await storeSwarmExport(this.deps.exportTargets(), document, this.deps.retention(), now);
      for (const { target, path, error, pruned } of stored) {
        if (error !== undefined) logger.error(`Storing the swarm's definitions on ${target} failed: ${error}`);
        else logger.info(`Stored the swarm's definitions (${countDefinitions(document)}) on ${target} as ${path}${pruned.length > 0 ? `, pruned ${pruned.length} older` : ''}`);
      }
    } catch (error) {
      logger.error(`Exporting the swarm's definitions failed: ${(error as Error).message}`);
    }
  }
}

/** Every target some volume backs up to, among those usable, local first; the local folder when none is. */
export function targetsOfVolumes(volumeTargets: ReadonlyArray<readonly TargetName[]>, usable: readonly TargetName[]): TargetName[] {
  const named = new Set(volumeTargets.flat());
  const chosen = usable.filter((name) => named.has(name));
  return chosen.length > 0 ? chosen : ['local'];
}

/** The counts a run brings its scaled services back to, from the stop journal, by service ID. */
export async function heldReplicasOf(journal: Pick<StopJournal, 'pending'>): Promise<ReadonlyMap<string, number>> {
  const entries = await journal.pending();
  return new Map(entries.flatMap((entry) => (entry.services ?? []).filter((service) => service.restart).map((service) => [service.id, service.replicas] as const)));
}
