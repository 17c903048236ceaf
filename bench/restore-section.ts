import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeCorpus } from './corpus';
import { measureProcess } from './measure-process';
import { readNodeChildReport } from './node-child';
import { measuresNote, measureFlushed, PipelineRounds, type ComparedPipeline } from './pipeline-rounds';
import type { BenchContext, BenchSection, SectionReport, Verdict } from './section';
import { markdownTable, mebibytes } from './stats';

type ArchiveCompression = 'gzip' | 'zstd';

interface Pipeline extends ComparedPipeline {
  compression: ArchiveCompression;
  command: string;
  args(archive: string, destination: string): string[];
}

const ours = (compression: ArchiveCompression): Pipeline => ({
  name: `backupvol restore ${compression}`,
  compression,
  ours: true,
  command: process.execPath,
  args: (archive, destination) => [join(__dirname, 'restore-child.js'), compression, archive, destination],
});

/** As a user would type it; tar spawns the decompressor itself. */
const reference = (name: string, compression: ArchiveCompression, decompress: string[]): Pipeline => ({
  name,
  compression,
  ours: false,
  command: 'tar',
  args: (archive, destination) => [...decompress, '-xf', archive, '-C', destination],
});

const PIPELINES = {
  oursGzip: ours('gzip'),
  tarGzip: reference('tar -xzf', 'gzip', ['-z']),
  oursZstd: ours('zstd'),
  tarZstd: reference('tar -I zstd -xf', 'zstd', ['-I', 'zstd']),
};
type PipelineKey = keyof typeof PIPELINES;

/** The product's promise: a restore extracts within this many times GNU tar's time for the same archive. */
const TIME_TARGETS: Array<{ ours: PipelineKey; reference: PipelineKey; max: number }> = [
  { ours: 'oursGzip', reference: 'tarGzip', max: 1.25 },
  { ours: 'oursZstd', reference: 'tarZstd', max: 1.25 },
];

export const restoreSection: BenchSection = {
  name: 'restore',
  title: 'Restore (extraction of the corpus archive)',
  async run(context: BenchContext): Promise<SectionReport> {
    // The archives a restore reads are the plugin's own: made once by createArchive, as a backup would.
    const archives = {
      gzip: join(context.workDir, 'restore-source.tar.gz'),
      zstd: join(context.workDir, 'restore-source.tar.zst'),
    };
    for (const [compression, path] of Object.entries(archives)) {
      await measureProcess(process.execPath, [join(__dirname, 'archive-child.js'), compression, context.corpus.dir, path]);
    }
    const rounds = new PipelineRounds(PIPELINES);
    try {
      await rounds.run(context.runs, async (key) => {
        const pipeline = PIPELINES[key];
        // A fresh directory on the corpus's filesystem, as a restore's staging directory is beside the volume.
        const destination = join(context.workDir, `restore-${key}`);
        await mkdir(destination);
        try {
          const measurement = await measureFlushed(pipeline.command, pipeline.args(archives[pipeline.compression], destination));
          if (pipeline.ours) checkFileCount(pipeline.name, readNodeChildReport<{ fileCount: number }>(measurement.stdout).fileCount, context);
          return measurement;
        } finally {
          await rm(destination, { recursive: true, force: true });
        }
      });
      const archiveBytes = { gzip: (await stat(archives.gzip)).size, zstd: (await stat(archives.zstd)).size };
      return report(context, rounds, archiveBytes);
    } finally {
      await Promise.all(Object.values(archives).map((path) => rm(path, { force: true })));
    }
  },
};

/** A restore that wrote less than the corpus would look fast: refuse to report it. */
function checkFileCount(name: string, fileCount: number, context: BenchContext): void {
  if (fileCount !== context.corpus.files) throw new Error(`${name} restored ${fileCount} files, the corpus has ${context.corpus.files}`);
}

function report(context: BenchContext, rounds: PipelineRounds<PipelineKey>, archiveBytes: Record<ArchiveCompression, number>): SectionReport {
  const rows = rounds.keys().map((key) => [
    PIPELINES[key].name,
    ...rounds.timingCells(key),
    mebibytes(archiveBytes[PIPELINES[key].compression]),
    ...rounds.rssCells(key),
  ]);
  const verdicts: Verdict[] = TIME_TARGETS.map(({ ours, reference, max }) => rounds.timeVerdict(ours, reference, max));
  const ratioRows = TIME_TARGETS.map(({ ours, reference }) => rounds.ratioCells(ours, reference));
  const markdown = [
    `Corpus: ${describeCorpus(context.corpus)}, archived once by backupvol's own pipeline (createArchive: gzip ` +
      'as concatenated members, zstd -3); every round extracts each archive once per pipeline into a fresh, empty ' +
      "directory on the corpus's filesystem (removed after, outside the measure); archives in the page cache; " +
      `${context.runs} rounds, each running every pipeline once in turn. Ours is extractArchive (src/restore/), ` +
      'the path every restore takes, in a Node process of its own; GNU tar runs gzip -d or zstd -d itself.',
    '',
    markdownTable(['pipeline', 'wall (median)', 'wall per round (s)', 'CPU (median)', 'archive', 'node peak RSS', 'process tree peak RSS'], rows),
    '',
    markdownTable(['ratio', 'wall, median of per-round ratios', 'wall, ratio of medians', 'CPU'], ratioRows),
    '',
    measuresNote('extractArchive'),
  ].join('\n');
  return { markdown, verdicts };
}
