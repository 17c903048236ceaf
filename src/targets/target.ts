import type { Readable } from 'node:stream';
import type { ArchiveOutput } from '../archive';
import type { ArchiveManifest } from '../vocabulary/archive-manifest';

/** How to read an archive; a hint a target may ignore (remote ones read as their library does). */
export interface OpenOptions {
  /** The size of the chunks to read the archive in. */
  readBytes?: number;
}

/** A complete archive: one whose manifest exists. */
export interface StoredArchive {
  name: string;
  manifest: ArchiveManifest;
}

/**
 * An archive being written: invisible until committed, and even then incomplete until its manifest. Its
 * kind says what its stream is (archive-output.ts): only a target that made a plain local file says so.
 */
export type ArchiveUpload = ArchiveOutput & {
  commit(): Promise<void>;
  abort(): Promise<void>;
};

/**
 * Where archives go. Every target keeps one folder (or prefix) per volume and writes the manifest last,
 * so listing, retention and restore only ever see complete archives.
 */
export interface Target {
  readonly name: string;
  beginUpload(volume: string, archive: string): Promise<ArchiveUpload>;
  /** `volume` names the folder, like every other verb here (it may differ from manifest.volume's folder). */
  writeManifest(volume: string, manifest: ArchiveManifest): Promise<void>;
  /** Complete archives, newest first. */
  list(volume: string): Promise<StoredArchive[]>;
  /** Removes the manifest first, so a half-removed archive is incomplete rather than broken. */
  remove(volume: string, archive: string): Promise<void>;
  /** readBytes: the size of the chunks to read, where the target reads in chunks (a hint). */
  open(volume: string, archive: string, options?: OpenOptions): Promise<Readable>;
  /** Deletes what an interrupted run left: partial uploads and archives without a manifest. */
  removeIncomplete(volume: string): Promise<string[]>;
}
