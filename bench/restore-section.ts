import { spawnSync } from 'node:child_process';
import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
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

/**
 * ext4 without a journal (this machine's root filesystem) does not reuse an inode freed less than 60 s ago
 * (360 s while its inode table block is dirty): every file created meanwhile scans past them, which made
 * tar -x of the corpus take 13-19 s instead of 4-6 s right after a deletion of the same size (`perf`:
 * ext4_create > recently_deleted). So no destination is removed before the section ends, and the first
 * measure waits until that long after the start (an earlier section may have removed a copy of the corpus).
 */
export const INODE_REUSE_DELAY_MS = 65_000;
/** Room each kept destination needs beyond the corpus's content: directories, inodes' blocks, rounding. */
const ROOM_MARGIN = 1.1;

export const restoreSection: BenchSection = {
  name: 'restore',
  title: 'Restore (extraction of the corpus archive)',
  async run(context: BenchContext): Promise<SectionReport> {
    spawnSync('sync');
    const started = performance.now();
    const needed = context.runs * Object.keys(PIPELINES).length * context.corpus.bytes * ROOM_MARGIN;
    const { bavail, bsize } = await statfs(context.workDir);
    if (bavail * bsize < needed) throw new Error(`the restore section keeps every restored tree until it ends: it needs ${mebibytes(needed)} free`);
    // The archives a restore reads are the plugin's own: made once by createArchive, as a backup would.
    const archives = {
      gzip: join(context.workDir, 'restore-source.tar.gz'),
      zstd: join(context.workDir, 'restore-source.tar.zst'),
    };
    const destinations: string[] = [];
    try {
      for (const [compression, path] of Object.entries(archives)) {
        await measureProcess(process.execPath, [join(__dirname, 'archive-child.js'), compression, context.corpus.dir, path]);
      }
      await sleep(Math.max(0, started + INODE_REUSE_DELAY_MS - performance.now()));
      const rounds = new PipelineRounds(PIPELINES);
      await rounds.run(context.runs, async (key) => {
        const pipeline = PIPELINES[key];
        // A fresh directory on the corpus's filesystem, as a restore's staging directory is beside the volume.
        const destination = join(context.workDir, `restore-${key}-${destinations.length}`);
        await mkdir(destination);
        destinations.push(destination);
        const measurement = await measureFlushed(pipeline.command, pipeline.args(archives[pipeline.compression], destination));
        if (pipeline.ours) checkFileCount(pipeline.name, readNodeChildReport<{ fileCount: number }>(measurement.stdout).fileCount, context);
        return measurement;
      });
      const archiveBytes = { gzip: (await stat(archives.gzip)).size, zstd: (await stat(archives.zstd)).size };
      return report(context, rounds, archiveBytes);
    } finally {
      await Promise.all([...Object.values(archives), ...destinations].map((path) => rm(path, { recursive: true, force: true })));
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
      "directory on the corpus's filesystem, kept until the section ends (ext4 without a journal is slow to " +
      'create files for a minute after a deletion: see bench/restore-section.ts); archives in the page cache; ' +
      `${context.runs} rounds, each running every pipeline once in turn. Ours is extractArchive (src/archive/), ` +
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
