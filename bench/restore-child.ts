import { createReadStream } from 'node:fs';
import { extractArchive } from '../src/restore/extract-archive';
import type { Compression } from '../src/volumes/volume-options';
import { runNodeChild } from './node-child';

/**
 * Runs one extractArchive (the path every restore takes, src/restore/stage-archive.ts) in its own process
 * (see node-child.ts). Usage: restore-child.js COMPRESSION ARCHIVE DESTINATION (an empty directory)
 */
runNodeChild(async ([compression, archivePath, destination]) =>
  extractArchive({ input: createReadStream(archivePath), compression: compression as Compression, destination }),
);
