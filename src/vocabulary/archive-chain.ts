import type { ArchiveManifest } from './archive-manifest';

/** An archive with its manifest, as a target lists it (targets/target.ts StoredArchive). */
export interface ListedArchive {
  name: string;
  manifest: ArchiveManifest;
}

/** Why an archive's chain cannot be applied: `link` is the archive at fault (the archive itself when malformed). */
export type ChainBreak =
  | { why: 'malformed'; link: string }
  | { why: 'missing'; link: string }
  | { why: 'other-volume'; link: string; volume: string }
  | { why: 'not-a-prefix'; link: string; chain: string[] };

export type ChainCheck<T extends ListedArchive> = { links: T[] } | { broken: ChainBreak };

/**
 * The names an archive's manifest says it applies as, the full archive first: a full archive (or one from
 * before chains, without `kind`) is a chain of itself.
 */
export function claimedChain(archive: ListedArchive): string[] {
  return archive.manifest.kind === 'incremental' ? (archive.manifest.chain ?? []) : [archive.name];
}

/**
 * The archives to apply, in order, to reach `archive`'s point, each found in `listing`; or the first link
 * that breaks the chain. A link counts only when its own manifest agrees: the same volume, and its own
 * chain the start of this one, so a link replaced by another archive of the same name is not applied.
 */
export function checkChain<T extends ListedArchive>(archive: T, listing: readonly T[]): ChainCheck<T> {
  const chain = claimedChain(archive);
  const { manifest } = archive;
  const wellFormed =
    chain.length >= 1 &&
    chain[chain.length - 1] === archive.name &&
    new Set(chain).size === chain.length &&
    (manifest.kind === 'incremental' ? chain.length >= 2 && manifest.base === chain[chain.length - 2] : manifest.base === undefined);
  if (!wellFormed) return { broken: { why: 'malformed', link: archive.name } };
  const byName = new Map(listing.map((listed) => [listed.name, listed]));
  const links: T[] = [];
  for (const [position, name] of chain.slice(0, -1).entries()) {
    const link = byName.get(name);
    if (!link) return { broken: { why: 'missing', link: name } };
    if (link.manifest.volume !== manifest.volume) return { broken: { why: 'other-volume', link: name, volume: link.manifest.volume } };
    const own = claimedChain(link);
    if (!sameNames(own, chain.slice(0, position + 1))) return { broken: { why: 'not-a-prefix', link: name, chain: own } };
    links.push(link);
  }
  links.push(archive);
  return { links };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** `archive X needs Y, which is missing from target local`: what a break is, for errors and logs. */
export function describeBreak(archive: string, broken: ChainBreak, target?: string): string {
  switch (broken.why) {
    case 'malformed':
      return `archive ${archive} is an incremental whose manifest names no chain ending in its base and itself`;
    case 'missing':
      return `archive ${archive} needs ${broken.link}, which is missing${target ? ` from target ${target}` : ''}`;
    case 'other-volume':
      return `archive ${archive} needs ${broken.link}, whose manifest is of volume ${broken.volume}`;
    case 'not-a-prefix':
      return `archive ${archive} needs ${broken.link}, whose manifest's chain (${broken.chain.join(', ')}) is not the start of ${archive}'s`;
  }
}
