import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { changeSmallFiles, type ChangeCounts } from './corpus-changes';
import { measureProcess } from './measure-process';
import type { BenchContext, BenchSection, SectionReport, Verdict } from './section';
import { runSnapshot, type SnapshotRun } from './snapshot-runs';
import { markdownTable, median, seconds } from './stats';

/** The product's promise: a sync snapshot stops the containers for at most this many rsync passes. */
const MAX_SYNC_TO_RSYNC = 3;
/**
 * A pass copies again what was modified this recently before it looked (racy copies, see
 * src/snapshot/sync-mirror.ts); changes "since the last run" are older than that, so the bench waits it out.
 */
export const SETTLE_MS = 2_500;
/** Seeds of the changes: one per round and scenario, so every run of the bench makes the same ones. */
const SEED = 7_340_000;

/** One measure of the table: its name and its value in each round (ms). */
type Measure = 'rsyncSettled' | 'syncSettled' | 'rsyncLate' | 'syncLate' | 'copy' | 'direct';
const LABELS: Record<Measure, string> = {
  rsyncSettled: '`rsync -a --delete` pass after change A',
  syncSettled: 'sync downtime, change A made before the run',
  rsyncLate: '`rsync -a --delete` pass after change B',
  syncLate: 'sync downtime, change B made after the live pass',
  copy: 'copy downtime (whole volume copied)',
  direct: 'direct downtime (= gzip archive time)',
};

interface Paths {
  volume: string;
  rsyncMirror: string;
  archivePath: string;
  staging: (mode: string) => string;
}

export const snapshotSection: BenchSection = {
  name: 'snapshot',
  title: 'Snapshot downtime with 1% of the small files changed',
  async run(context: BenchContext): Promise<SectionReport> {
    const paths: Paths = {
      volume: join(context.workDir, 'volume'),
      rsyncMirror: join(context.workDir, 'rsync-mirror'),
      archivePath: join(context.workDir, 'direct.tar.gz'),
      staging: (mode) => join(context.workDir, `staging-${mode}`),
    };
    // The changes must not touch the shared corpus (other sections and a kept BENCH_DIR reuse it).
    run('cp', ['-a', `${context.corpus.dir}/.`, paths.volume]);
    const first = await prime(paths);
    const values = new Map<Measure, number[]>();
    const record = (measure: Measure, ms: number) => values.set(measure, [...(values.get(measure) ?? []), ms]);
    const copiedSettled: number[] = [];
    const copiedLate: number[] = [];
    let changes: ChangeCounts | undefined;
    for (let round = 0; round < context.runs; round++) {
      const change = (scenario: number) => changeSmallFiles(paths.volume, context.corpus.shape, SEED + round * 2 + scenario);
      // A: changed between two runs, long enough ago that the live pass takes it all.
      changes = await change(0);
      await sleep(SETTLE_MS);
      record('rsyncSettled', await rsyncPass(paths));
      const settled = await snapshot('sync', paths);
      record('syncSettled', settled.reportedMs);
      copiedSettled.push(settled.copied?.filesCopied ?? 0);
      // B: written after the live pass went by, so the stopped pass must find and copy it. The code's
      // figure would include the writing itself: the stopped interval is the downtime here.
      const late = await snapshot('sync', paths, () => change(1));
      record('syncLate', late.stoppedMs);
      copiedLate.push(late.copied?.filesCopied ?? 0);
      await sleep(SETTLE_MS);
      record('rsyncLate', await rsyncPass(paths));
      record('copy', (await snapshot('copy', paths)).reportedMs);
      record('direct', (await snapshot('direct', paths)).reportedMs);
      process.stderr.write(`  round ${round + 1}: ${[...values].map(([key, ms]) => `${key} ${seconds(ms[round])}`).join(', ')}\n`);
    }
    return report(context, values, { ...first, changes: changes as ChangeCounts, copiedSettled, copiedLate });
  },
};

/** First passes: the rsync mirror and the sync mirror start in sync with the volume, caches warm. */
async function prime(paths: Paths): Promise<{ rsyncFirstMs: number; syncFirstMs: number }> {
  const rsyncFirstMs = await rsyncPass(paths);
  const started = performance.now();
  await snapshot('sync', paths);
  return { rsyncFirstMs, syncFirstMs: performance.now() - started };
}

/**
 * `--delete` so that rsync mirrors deletions as the sync pass does (without it the mirror would keep the
 * deleted files); it costs nothing visible with a handful of deletions.
 */
async function rsyncPass(paths: Paths): Promise<number> {
  spawnSync('sync');
  return (await measureProcess('rsync', ['-a', '--delete', `${paths.volume}/`, `${paths.rsyncMirror}/`])).wallMs;
}

async function snapshot(mode: 'sync' | 'copy' | 'direct', paths: Paths, beforeStop?: () => Promise<unknown>): Promise<SnapshotRun> {
  // Flush what earlier steps wrote, so no measure pays for another's writeback.
  spawnSync('sync');
  return runSnapshot({ mode, source: paths.volume, stagingDir: paths.staging(mode), archivePath: paths.archivePath, beforeStop });
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

function report(
  context: BenchContext,
  values: Map<Measure, number[]>,
  extra: { rsyncFirstMs: number; syncFirstMs: number; changes: ChangeCounts; copiedSettled: number[]; copiedLate: number[] },
): SectionReport {
  const get = (measure: Measure) => values.get(measure) as number[];
  // Measures of one round are minutes apart at most: their ratio is the least moved by other work.
  const pairedRatio = (ours: Measure, reference: Measure) => median(get(ours).map((ms, round) => ms / get(reference)[round]));
  const rows = (Object.keys(LABELS) as Measure[]).map((measure) => [
    LABELS[measure],
    seconds(median(get(measure))),
    get(measure).map((ms) => (ms / 1000).toFixed(3)).join(' / '),
  ]);
  const ratios: Array<[Measure, Measure]> = [
    ['syncSettled', 'rsyncSettled'],
    ['syncLate', 'rsyncLate'],
    ['copy', 'rsyncSettled'],
    ['direct', 'rsyncSettled'],
  ];
  const ratioRows = ratios.map(([ours, reference]) => [
    `${LABELS[ours]} / ${LABELS[reference]}`,
    `${pairedRatio(ours, reference).toFixed(2)}x`,
  ]);
  const settled = pairedRatio('syncSettled', 'rsyncSettled');
  const late = pairedRatio('syncLate', 'rsyncLate');
  const verdicts: Verdict[] = [
    {
      target: `sync downtime <= ${MAX_SYNC_TO_RSYNC}x an \`rsync -a\` pass over the same 1% change`,
      measured: `${settled.toFixed(2)}x with the change made before the run, ${late.toFixed(2)}x with it made after the live pass`,
      met: Math.max(settled, late) <= MAX_SYNC_TO_RSYNC,
    },
  ];
  const { changes } = extra;
  const markdown = [
    `The volume is a copy of the corpus (${context.corpus.files} files); each round changes ${changes.modified + changes.created + changes.deleted} ` +
      `of its small files twice (seeded: ${changes.modified} rewritten with a new size, ${changes.created} new, ` +
      `${changes.deleted} deleted). Change A is made ${SETTLE_MS / 1000} s before the measures that follow it ` +
      '(a change since the last run: the live pass of sync takes it before the stop, the stopped pass copies ' +
      `${median(extra.copiedSettled)} files, median); change B is written by the quiesce hook, after the live ` +
      'pass and just before the stop (the stopped pass must find and copy it: ' +
      `${median(extra.copiedLate)} files copied while stopped, median). Downtime is what takeSnapshot reports, ` +
      'called as src/runs/backup/run-backup.ts calls it with a quiesce that stops nothing; for B, the interval the ' +
      "hook recorded between its return and resume (the code counts the hook's own writing too). direct " +
      'archives the volume with gzip (the default) before release, so its downtime is the archive time. Each ' +
      'rsync pass runs over a mirror that was in sync before the change. First passes into empty mirrors (not ' +
      `in the table): rsync ${seconds(extra.rsyncFirstMs)}, a whole sync snapshot ${seconds(extra.syncFirstMs)}. ` +
      `${context.runs} rounds.`,
    '',
    markdownTable(['measure', 'median', 'per round (s)'], rows),
    '',
    markdownTable(['ratio', 'median of per-round ratios'], ratioRows),
  ].join('\n');
  return { markdown, verdicts };
}
