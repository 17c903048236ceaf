import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { archiveReadBytes, extractArchive } from '../src/archive/extract-archive';
import type { Compression } from '../src/vocabulary/volume-options';
import { runNodeChild } from './node-child';

/**
 * Runs one extractArchive (the path every restore takes, src/runs/restore/stage-archive.ts) in its own process
 * (see node-child.ts). Usage: restore-child.js COMPRESSION ARCHIVE DESTINATION (an empty directory)
 */
runNodeChild(async ([compression, archivePath, destination]) => {
  // Read as stageArchive has LocalTarget read it: opened before extractArchive sees it, so a zstd archive
  // takes the path of a local file (zstd reads it itself).
  const input = createReadStream(archivePath, { highWaterMark: archiveReadBytes(compression as Compression) });
  await once(input, 'open');
  return extractArchive({ input, compression: compression as Compression, destination });
});
