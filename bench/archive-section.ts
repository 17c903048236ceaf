import { spawnSync } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { measureProcess, type ProcessMeasurement } from './measure-process';
import type { BenchContext, BenchSection, SectionReport, Verdict } from './section';
import { markdownTable, mebibytes, median, seconds } from './stats';

interface Pipeline {
  name: string;
  /** Output file extension, for the reader of the table. */
  extension: string;
  command: string;
  args(source: string, output: string): string[];
}

/** The reference pipelines, as a user would type them; bash only joins the pipe, paths are arguments. */
const reference = (name: string, extension: string, pipe: string): Pipeline => ({
  name,
  extension,
  command: 'bash',
  args: (source, output) => ['-c', `tar -cf - -C "$0" . ${pipe} > "$1"`, source, output],
});

const ours = (compression: string, extension: string): Pipeline => ({
  name: `backupvol ${compression}`,
  extension,
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

interface Result {
  wallMs: number[];
  bytes: number;
  measurements: ProcessMeasurement[];
  /** Reported by our child itself: process.resourceUsage().maxRSS. */
  nodeMaxRssKiB: number[];
}

export const archiveSection: BenchSection = {
  name: 'archive',
  title: 'Archive creation',
  async run(context: BenchContext): Promise<SectionReport> {
    const source = context.corpus.dir;
    // Every pipeline reads the corpus from the page cache: read it once first so the first one does not pay.
    await measureProcess('bash', ['-c', 'tar -cf - -C "$0" . | cat > /dev/null', source]);
    const results = new Map<PipelineKey, Result>();
    for (let run = 0; run < context.runs; run++) {
      for (const [key, pipeline] of Object.entries(PIPELINES) as Array<[PipelineKey, Pipeline]>) {
        const output = join(context.workDir, `archive-${key}.${pipeline.extension}`);
        // Flush what earlier runs wrote, so no pipeline pays for another's writeback.
        spawnSync('sync');
        const measurement = await measureProcess(pipeline.command, pipeline.args(source, output));
        const bytes = (await stat(output)).size;
        await rm(output, { force: true });
        const result = results.get(key) ?? { wallMs: [], bytes, measurements: [], nodeMaxRssKiB: [] };
        result.wallMs.push(measurement.wallMs);
        result.measurements.push(measurement);
        if (pipeline.command === process.execPath) {
          result.nodeMaxRssKiB.push((JSON.parse(measurement.stdout) as { maxRssKiB: number }).maxRssKiB);
        }
        results.set(key, result);
        process.stderr.write(`  ${pipeline.name}: ${seconds(measurement.wallMs)}\n`);
      }
    }
    return report(context, results);
  },
};

function report(context: BenchContext, results: Map<PipelineKey, Result>): SectionReport {
  const get = (key: PipelineKey) => results.get(key) as Result;
  const wall = (key: PipelineKey) => median(get(key).wallMs);
  const cpu = (key: PipelineKey) => median(get(key).measurements.map((m) => m.cpuMs));
  // Runs of a round are adjacent in time: their ratio is the least disturbed by other work on the machine.
  const pairedRatio = (ours: PipelineKey, reference: PipelineKey) =>
    median(get(ours).wallMs.map((ms, run) => ms / get(reference).wallMs[run]));
  const rows = (Object.entries(PIPELINES) as Array<[PipelineKey, Pipeline]>).map(([key, pipeline]) => {
    const result = get(key);
    const nodeRss = result.nodeMaxRssKiB.length > 0 ? mebibytes(Math.max(...result.nodeMaxRssKiB) * 1024) : '';
    const treeRss = mebibytes(Math.max(...result.measurements.map((m) => m.treePeakRssKiB)) * 1024);
    return [
      pipeline.name,
      seconds(wall(key)),
      result.wallMs.map((ms) => (ms / 1000).toFixed(2)).join(' / '),
      seconds(cpu(key)),
      mebibytes(result.bytes),
      nodeRss,
      treeRss,
    ];
  });
  const verdicts: Verdict[] = TIME_TARGETS.map(({ ours, reference, max }) => {
    const ratio = pairedRatio(ours, reference);
    return {
      target: `${PIPELINES[ours].name} <= ${max}x ${PIPELINES[reference].name} (wall time)`,
      measured: `${ratio.toFixed(2)}x`,
      met: ratio <= max,
    };
  });
  const ourKeys: PipelineKey[] = ['oursGzip', 'oursZstd', 'oursNone'];
  const peakNodeRss = Math.max(...ourKeys.flatMap((key) => get(key).nodeMaxRssKiB));
  verdicts.push({
    target: 'peak RSS of the archiving (node) process <= 96 MiB',
    measured: mebibytes(peakNodeRss * 1024),
    met: peakNodeRss <= MAX_RSS_KIB,
  });
  const ratioRows = [...TIME_TARGETS, ...INFORMATIVE_RATIOS].map(({ ours, reference }) => [
    `${PIPELINES[ours].name} / ${PIPELINES[reference].name}`,
    `${pairedRatio(ours, reference).toFixed(2)}x`,
    `${(wall(ours) / wall(reference)).toFixed(2)}x`,
    `${(cpu(ours) / cpu(reference)).toFixed(2)}x`,
    `${(get(ours).bytes / get(reference).bytes).toFixed(3)}x`,
  ]);
  const { shape } = context.corpus;
  const markdown = [
    `Corpus: ${context.corpus.files} files, ${mebibytes(context.corpus.bytes)} (${shape.folders} folders of ` +
      `${shape.filesPerFolder} text files of 1-16 KiB, ${shape.randomFiles} random and ${shape.repetitiveFiles} ` +
      `log-like files of ${mebibytes(shape.bigFileBytes)}); page cache warm; every pipeline writes its archive to ` +
      `a file on the corpus's filesystem; ${context.runs} rounds, each running every pipeline once in turn.`,
    '',
    markdownTable(['pipeline', 'wall (median)', 'wall per round (s)', 'CPU (median)', 'archive', 'node peak RSS', 'process tree peak RSS'], rows),
    '',
    markdownTable(['ratio', 'wall, median of per-round ratios', 'wall, ratio of medians', 'CPU', 'archive size'], ratioRows),
    '',
    'CPU: user + system time of the pipeline and all its processes. Node peak RSS: `process.resourceUsage().maxRSS` ' +
      'in the child that runs createArchive (the Node process doing the work). Process tree: the sum of each ' +
      "process's peak (VmHWM) sampled every 50 ms, compressor included. Verdicts use the median of per-round wall ratios.",
  ].join('\n');
  return { markdown, verdicts };
}
