import { createReadStream } from 'node:fs';
import { extractArchive } from '../src/restore/extract-archive';
import { ARCHIVE_READ_BYTES } from '../src/targets/local-target';
import type { Compression } from '../src/volumes/volume-options';
import { runNodeChild } from './node-child';

/**
 * Runs one extractArchive (the path every restore takes, src/restore/stage-archive.ts) in its own process
 * (see node-child.ts). Usage: restore-child.js COMPRESSION ARCHIVE DESTINATION (an empty directory)
 */
runNodeChild(async ([compression, archivePath, destination]) =>
  // Read as LocalTarget.open reads it.
  extractArchive({ input: createReadStream(archivePath, { highWaterMark: ARCHIVE_READ_BYTES }), compression: compression as Compression, destination }),
);
