import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { createArchive } from '../src/archive/create-archive';
import type { Compression } from '../src/vocabulary/volume-options';
import { runNodeChild } from './node-child';

/** Runs one createArchive in its own process (see node-child.ts). Usage: archive-child.js COMPRESSION SOURCE OUTPUT */
runNodeChild(async ([compression, sourceDir, outputPath]) => {
  const output = createWriteStream(outputPath);
  const result = await createArchive({
    sourceDir,
    compression: compression as Compression,
    exclude: [],
    output: { kind: 'local-file', stream: output },
  });
  if (!output.closed) await finished(output);
  return result;
});
