/**
 * The archive library's one door: what code outside src/archive may use. Everything else in this folder
 * is its insides, free to change (tests and bench/ reach in on purpose).
 */
export { createArchive, type ArchiveResult, type CreateArchiveOptions } from './create-archive';
export { archiveReadBytes, extractArchive, type ExtractOptions, type ExtractResult } from './extract-archive';
export { listArchiveEntries, type ArchiveEntryInfo, type ArchiveListing } from './list-archive-entries';
export { DigestStream } from './digest-stream';
export type { ArchiveOutput } from './archive-output';
export type { ChainLink } from './pack-changes';
export { isCompleteIndex } from './tree-index';
