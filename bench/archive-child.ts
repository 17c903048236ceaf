import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { createArchive } from '../src/archive/create-archive';
import type { Compression } from '../src/volumes/volume-options';

/**
 * Runs one createArchive in its own process, so the bench can read this process's peak RSS without the
 * corpus generator's or the other runs' garbage in it. Usage: archive-child.js COMPRESSION SOURCE OUTPUT
 */
async function main(): Promise<void> {
  const [compression, sourceDir, outputPath] = process.argv.slice(2);
  const output = createWriteStream(outputPath);
  const result = await createArchive({
    sourceDir,
    compression: compression as Compression,
    exclude: [],
    output,
  });
  if (!output.closed) await finished(output);
  // maxRSS is in KiB on Linux.
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
