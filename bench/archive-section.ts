import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeCorpus } from './corpus';
import { measureProcess } from './measure-process';
import { measuresNote, measureFlushed, PipelineRounds, type ComparedPipeline } from './pipeline-rounds';
import type { BenchContext, BenchSection, SectionReport, Verdict } from './section';
import { markdownTable, mebibytes } from './stats';

interface Pipeline extends ComparedPipeline {
  /** Output file extension, for the reader of the table. */
  extension: string;
  command: string;
  args(source: string, output: string): string[];
}

/** The reference pipelines, as a user would type them; bash only joins the pipe, paths are arguments. */
const reference = (name: string, extension: string, pipe: string): Pipeline => ({
  name,
  extension,
  ours: false,
  command: 'bash',
  args: (source, output) => ['-c', `tar -cf - -C "$0" . ${pipe} > "$1"`, source, output],
});

const ours = (compression: string, extension: string): Pipeline => ({
  name: `backupvol ${compression}`,
  extension,
  ours: true,
  command: process.execPath,
  args: (source, output) => [join(__dirname, 'archive-child.js'), compression, source, output],
});

const PIPELINES = {
  oursGzip: ours('gzip', 'tar.gz'),
  pigz: reference('tar | pigz -6', 'tar.gz', '| pigz -6'),
  gzip: reference('tar | gzip -6', 'tar.gz', '| gzip -6'),
  oursZstd: ours('zstd', 'tar.zst'),
  zstd: reference('tar | zstd -3 -T0', 'tar.zst', '| zstd -3 -T0 -q'),
  oursNone: ours('none', 'tar'),
  tar: reference('tar', 'tar', ''),
};
type PipelineKey = keyof typeof PIPELINES;

/** Ratios the product promises (ours / reference, wall time) and the RSS bound of the archiving process. */
const TIME_TARGETS: Array<{ ours: PipelineKey; reference: PipelineKey; max: number }> = [
  { ours: 'oursGzip', reference: 'pigz', max: 1.25 },
  { ours: 'oursZstd', reference: 'zstd', max: 1.5 },
];
const INFORMATIVE_RATIOS: Array<{ ours: PipelineKey; reference: PipelineKey }> = [
  { ours: 'oursGzip', reference: 'gzip' },
  { ours: 'oursNone', reference: 'tar' },
];
const MAX_RSS_KIB = 96 * 1024;

export const archiveSection: BenchSection = {
  name: 'archive',
  title: 'Archive creation',
  async run(context: BenchContext): Promise<SectionReport> {
    const source = context.corpus.dir;
    // Every pipeline reads the corpus from the page cache: read it once first so the first one does not pay.
    await measureProcess('bash', ['-c', 'tar -cf - -C "$0" . | cat > /dev/null', source]);
    const rounds = new PipelineRounds(PIPELINES);
    const archiveBytes = new Map<PipelineKey, number>();
    await rounds.run(context.runs, async (key) => {
      const pipeline = PIPELINES[key];
      const output = join(context.workDir, `archive-${key}.${pipeline.extension}`);
      const measurement = await measureFlushed(pipeline.command, pipeline.args(source, output));
      archiveBytes.set(key, (await stat(output)).size);
      await rm(output, { force: true });
      return measurement;
    });
    return report(context, rounds, archiveBytes);
  },
};

function report(context: BenchContext, rounds: PipelineRounds<PipelineKey>, archiveBytes: Map<PipelineKey, number>): SectionReport {
  const bytes = (key: PipelineKey) => archiveBytes.get(key) as number;
  const rows = rounds.keys().map((key) => [PIPELINES[key].name, ...rounds.timingCells(key), mebibytes(bytes(key)), ...rounds.rssCells(key)]);
  const verdicts: Verdict[] = TIME_TARGETS.map(({ ours, reference, max }) => rounds.timeVerdict(ours, reference, max));
  const peakNodeRss = rounds.peakNodeRssKiB();
  verdicts.push({
    target: 'peak RSS of the archiving (node) process <= 96 MiB',
    measured: mebibytes(peakNodeRss * 1024),
    met: peakNodeRss <= MAX_RSS_KIB,
  });
  const ratioRows = [...TIME_TARGETS, ...INFORMATIVE_RATIOS].map(({ ours, reference }) => [
    ...rounds.ratioCells(ours, reference),
    `${(bytes(ours) / bytes(reference)).toFixed(3)}x`,
  ]);
  const markdown = [
    `Corpus: ${describeCorpus(context.corpus)}; page cache warm; every pipeline writes its archive to a file on ` +
      `the corpus's filesystem; ${context.runs} rounds, each running every pipeline once in turn.`,
    '',
    markdownTable(['pipeline', 'wall (median)', 'wall per round (s)', 'CPU (median)', 'archive', 'node peak RSS', 'process tree peak RSS'], rows),
    '',
    markdownTable(['ratio', 'wall, median of per-round ratios', 'wall, ratio of medians', 'CPU', 'archive size'], ratioRows),
    '',
    measuresNote('createArchive'),
  ].join('\n');
  return { markdown, verdicts };
}
