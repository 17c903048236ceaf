import type { StoredArchive } from '../../targets/target';
import { checkChain, describeBreak } from '../../vocabulary/archive-chain';
import type { ArchiveManifest } from '../../vocabulary/archive-manifest';
import type { RunRecord } from '../../vocabulary/run-record';
import type { FullEvery } from '../../vocabulary/volume-options';

/** What the next archive of a volume is: full, or an incremental on `base`. */
export type ArchiveKindPlan =
  | { kind: 'full'; /** For the log: why this run cannot be an incremental. */ reason: string }
  | {
      kind: 'incremental';
      base: string;
      /** The names from the full archive up to and including `base`. */
      chain: string[];
      /** The bytes of those archives, from their manifests. */
      baseChainBytes: number;
    };

export interface ArchiveKindInput {
  /** The volume's complete archives, newest first, as a target lists them (only archives with a manifest). */
  archives: readonly StoredArchive[];
  fullEvery: FullEvery;
  now: Date;
  /**
   * The archive that the plugin's persisted index of the volume describes, or undefined when it holds none
   * it can trust. An incremental is computed against that index, so it must describe the newest archive.
   */
  indexedArchive: string | undefined;
}

/**
 * Full when backup-full-every is 1, when there is no archive to base on, when the newest archive's chain
 * is broken, when that chain is as long as backup-full-every or its full archive as old, or when the index
 * is not of the newest archive. It bases only on the newest complete archive: what a killed or failed run
 * left has no manifest, so it is never listed and never a base.
 */
export function planArchiveKind(input: ArchiveKindInput): ArchiveKindPlan {
  const { fullEvery } = input;
  if ('count' in fullEvery && fullEvery.count <= 1) return full('backup-full-every is 1');
  const newest = input.archives[0];
  if (!newest) return full('the volume has no complete archive to base an incremental on');
  const checked = checkChain(newest, input.archives);
  if ('broken' in checked) return full(`the newest archive's chain is broken: ${describeBreak(newest.name, checked.broken)}`);
  const links = checked.links;
  if ('count' in fullEvery && links.length >= fullEvery.count) {
    return full(`the chain of ${newest.name} holds ${links.length} archives (backup-full-every=${fullEvery.count})`);
  }
  if ('maxAgeMs' in fullEvery) {
    const head = links[0].manifest;
    // Written as "incremental only while younger", so a date that is not one makes a full archive.
    const age = input.now.getTime() - new Date(head.created).getTime();
    if (!(age < fullEvery.maxAgeMs)) return full(`the chain's full archive ${links[0].name} (made ${head.created}) is as old as backup-full-every`);
  }
  if (input.indexedArchive !== newest.name) return full(`the plugin holds no index of the newest archive ${newest.name} to compare against`);
  return {
    kind: 'incremental',
    base: newest.name,
    chain: links.map((link) => link.name),
    baseChainBytes: links.reduce((sum, link) => sum + link.manifest.bytes, 0),
  };
}

/** The chain fields of the manifest of `archive`, the archive that `plan` makes. */
export function chainManifestFields(plan: ArchiveKindPlan, archive: string): Required<Pick<ArchiveManifest, 'kind' | 'chain'>> & Pick<ArchiveManifest, 'base'> {
  return plan.kind === 'full'
    ? { kind: 'full', chain: [archive] }
    : { kind: 'incremental', base: plan.base, chain: [...plan.chain, archive] };
}

/** The chain fields of the run record, once the archive that `plan` makes is written (`bytes` its size). */
export function chainRecordFields(plan: ArchiveKindPlan, bytes: number): Pick<RunRecord, 'kind' | 'base' | 'chainBytes'> {
  return plan.kind === 'full'
    ? { kind: 'full', chainBytes: bytes }
    : { kind: 'incremental', base: plan.base, chainBytes: plan.baseChainBytes + bytes };
}

function full(reason: string): ArchiveKindPlan {
  return { kind: 'full', reason };
}
