import { createReadStream } from 'node:fs';
import { archiveReadBytes, extractArchive } from '../src/restore/extract-archive';
import type { Compression } from '../src/volumes/volume-options';
import { runNodeChild } from './node-child';

/**
 * Runs one extractArchive (the path every restore takes, src/restore/stage-archive.ts) in its own process
 * (see node-child.ts). Usage: restore-child.js COMPRESSION ARCHIVE DESTINATION (an empty directory)
 */
runNodeChild(async ([compression, archivePath, destination]) =>
  // Read as stageArchive has LocalTarget read it.
  extractArchive({
    input: createReadStream(archivePath, { highWaterMark: archiveReadBytes(compression as Compression) }),
    compression: compression as Compression,
    destination,
  }),
);
