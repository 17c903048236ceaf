import type { RestoreRecord, RunRecord } from '../src/vocabulary/run-record';
import { RUN_PHASES } from '../src/vocabulary/run-phases';
import { describeCorpus } from './corpus';
import { FULL_EVERY, IDLE_SETTLE_MS, INCREMENTALS, type TimedRun } from './e2e-engine';
import { REFERENCE_NAMES, type ArchiveReference } from './e2e-references';
import type { BenchContext, SectionReport, Verdict } from './section';
import { SETTLE_MS } from './snapshot-section';
import { markdownTable, mebibytes, median, seconds } from './stats';

/** A plugin run with the references measured just before it, on the same data. */
export interface MeasuredRun {
  label: string;
  run: TimedRun<RunRecord>;
  /** Wall time (ms) of each archive reference. */
  references: Record<ArchiveReference, number>;
  resticMs?: number;
}

export interface RestoreRound {
  ours: TimedRun<RestoreRecord>;
  tarMs: number;
  files: number;
}

export interface E2eResults {
  idleRssKiB: number;
  /** First run, nothing changed, 1% changed with an attached container: every archive full. */
  fullVolumeRuns: MeasuredRun[];
  /** backup-compression=zstd: the first run, then one with nothing changed (a full zstd run). */
  zstdRuns: MeasuredRun[];
  chainFull: MeasuredRun;
  firstIncremental: MeasuredRun;
  laterIncrementals: TimedRun<RunRecord>[];
  restores: RestoreRound[];
  /** `restic version`, when it is installed. */
  restic?: string;
}

/** The product's targets for what a user gets through the plugin. */
const MAX_FIRST_TO_PIGZ = 1.3;
const MAX_FULL_TO_PIGZ = 1.0;
const MAX_FULL_ZSTD_TO_ZSTD = 1.2;
const MAX_INCREMENTAL_TO_PIGZ = 0.15;
const MAX_INCREMENTAL_SHARE = 0.02;
const MAX_RESTORE_TO_TAR = 1.3;
const MAX_DOWNTIME_MS = 500;
const MAX_PLUGIN_PEAK_KIB = 96 * 1024;
const MAX_IDLE_RSS_KIB = 56 * 1024;

const ratio = (value: number) => `${value.toFixed(2)}x`;
const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
const downtime = (record: RunRecord | RestoreRecord) => (record.downtimeMs === undefined ? 'none' : seconds(record.downtimeMs));
const kib = (value: number) => mebibytes(value * 1024);

export function e2eReport(context: BenchContext, results: E2eResults): SectionReport {
  const markdown = [
    `Corpus: ${describeCorpus(context.corpus)}, copied into the data folders of three volumes of the installed ` +
      'plugin (driver backupvol, installed afresh from plugin/ before the section; local target, gzip, sync ' +
      `snapshots). The first volume has the default options (every archive full); the second has ` +
      '`backup-compression=zstd`; the third has ' +
      `\`backup-full-every=${FULL_EVERY}\`. Each run is \`backupvol backup VOLUME\` (the host CLI), timed from the ` +
      'shell; the references run on the same data just before it, each writing its archive to a file on the same ' +
      'filesystem and fsyncing it. A 1% change rewrites, creates and deletes small files as the snapshot section ' +
      `does, ${seconds(SETTLE_MS)} before the run. Each run happens once; the restore comparison runs ${context.runs} rounds.`,
    '',
    runTables(results),
    '',
    phaseTable(results),
    '',
    restoreTables(context, results.restores),
    '',
    `Plugin RSS: ${kib(results.idleRssKiB)} idle (VmRSS of its Node process ${seconds(IDLE_SETTLE_MS)} after ` +
      `\`docker plugin enable\` returned); at most ${kib(backupPeak(results))} during a backup and ` +
      `${kib(restorePeak(results))} during a restore. The peak is VmHWM of that process, reset (clear_refs) ` +
      'before each CLI call and read after it; the compressors it spawns are not counted. Wall: from the shell, ' +
      'the host CLI included; run record: the duration the plugin records for the run; downtime: what the run ' +
      'record reports, from asking the containers to stop until they run again (0 when none is attached: sync ' +
      'then makes one pass, its live-pass). The attached container is `sh` waiting on a background `sleep`, so it exits on ' +
      'SIGTERM at once; phases: the run record\'s timings of each phase.',
    '',
    results.restic
      ? `restic: ${results.restic}; \`restic backup\` of the chain volume, initial before its full run, incremental before its first incremental.`
      : 'restic: not installed.',
  ].join('\n');
  return { markdown, verdicts: verdicts(results) };
}

/** The runs that have references beside them, in the order they ran. */
function measuredRuns(results: E2eResults): MeasuredRun[] {
  return [...results.fullVolumeRuns, ...results.zstdRuns, results.chainFull, results.firstIncremental];
}

function backupPeak(results: E2eResults): number {
  return Math.max(...measuredRuns(results).map((m) => m.run.pluginPeakKiB), ...results.laterIncrementals.map((run) => run.pluginPeakKiB));
}

function restorePeak(results: E2eResults): number {
  return Math.max(...results.restores.map((round) => round.ours.pluginPeakKiB));
}

function incrementalShare(results: E2eResults): number {
  return (results.firstIncremental.run.record.bytes ?? 0) / (results.chainFull.run.record.bytes ?? 0);
}

function runTables(results: E2eResults): string {
  const rows = measuredRuns(results).map(({ label, run, references }) => [
    label,
    seconds(run.wallMs),
    seconds(run.record.durationMs),
    downtime(run.record),
    mebibytes(run.record.bytes ?? 0),
    kib(run.pluginPeakKiB),
    seconds(references.pigz),
    seconds(references.zstd),
  ]);
  const later = results.laterIncrementals;
  const medianOf = (pick: (run: TimedRun<RunRecord>) => number) => median(later.map(pick));
  rows.push([
    `incrementals 2-${INCREMENTALS}, 1% changed before each (median)`,
    seconds(medianOf((run) => run.wallMs)),
    seconds(medianOf((run) => run.record.durationMs)),
    seconds(medianOf((run) => run.record.downtimeMs ?? 0)),
    mebibytes(medianOf((run) => run.record.bytes ?? 0)),
    kib(Math.max(...later.map((run) => run.pluginPeakKiB))),
    '',
    '',
  ]);
  const ratioRows = measuredRuns(results).map(({ label, run, references, resticMs }) => [
    label,
    ratio(run.wallMs / references.pigz),
    ratio(run.wallMs / references.zstd),
    resticMs === undefined ? '' : ratio(run.wallMs / resticMs),
    run === results.firstIncremental.run ? percent(incrementalShare(results)) : '',
  ]);
  return [
    markdownTable(['run', 'wall', 'run record', 'downtime', 'archive', 'plugin peak RSS', 'pigz + sync', 'zstd + sync'], rows),
    '',
    markdownTable(['run', `/ ${REFERENCE_NAMES.pigz}`, `/ ${REFERENCE_NAMES.zstd}`, '/ `restic backup`', 'archive / full archive'], ratioRows),
  ].join('\n');
}

/** Where each run's time went (ms per phase, from its run record): the phases that ran in any of them. */
function phaseTable(results: E2eResults): string {
  const runs = measuredRuns(results);
  const phases = RUN_PHASES.filter((phase) => runs.some(({ run }) => run.record.phases?.[phase] !== undefined));
  const rows = runs.map(({ label, run }) => [label, ...phases.map((phase) => String(run.record.phases?.[phase] ?? ''))]);
  return markdownTable(['phases (ms)', ...phases], rows);
}

function restoreRatio(restores: RestoreRound[]): number {
  return median(restores.map((round) => round.ours.wallMs / round.tarMs));
}

function restoreTables(context: BenchContext, restores: RestoreRound[]): string {
  const ours = restores.map((round) => round.ours.wallMs);
  const tar = restores.map((round) => round.tarMs);
  const peak = Math.max(...restores.map((round) => round.ours.pluginPeakKiB));
  const rows = [
    [`\`backupvol restore --into\`, full + ${INCREMENTALS} incrementals`, seconds(median(ours)), perRound(ours), kib(peak), String(restores[0].files)],
    ['`tar -xzf`, the full archive alone', seconds(median(tar)), perRound(tar), '', String(context.corpus.files)],
  ];
  const ratioRow = [
    `restore of full + ${INCREMENTALS} incrementals / \`tar -xzf\` of the full archive`,
    ratio(restoreRatio(restores)),
    ratio(median(ours) / median(tar)),
  ];
  return [
    markdownTable(['restore', 'wall (median)', 'wall per round (s)', 'plugin peak RSS', 'files'], rows),
    '',
    markdownTable(['ratio', 'wall, median of per-round ratios', 'wall, ratio of medians'], [ratioRow]),
  ].join('\n');
}

function verdicts(results: E2eResults): Verdict[] {
  const [first, unchanged, changed] = results.fullVolumeRuns;
  const pigz = REFERENCE_NAMES.pigz;
  const share = incrementalShare(results);
  const restore = restoreRatio(results.restores);
  const peak = Math.max(backupPeak(results), restorePeak(results));
  return [
    ratioVerdict(`first run <= ${MAX_FIRST_TO_PIGZ}x ${pigz}`, first, MAX_FIRST_TO_PIGZ),
    ratioVerdict(`run with nothing changed (full, gzip) <= ${MAX_FULL_TO_PIGZ}x ${pigz}`, unchanged, MAX_FULL_TO_PIGZ),
    ratioVerdict(`run with 1% changed (full, gzip) <= ${MAX_FULL_TO_PIGZ}x ${pigz}`, changed, MAX_FULL_TO_PIGZ),
    ratioVerdict(`run with nothing changed (full, zstd) <= ${MAX_FULL_ZSTD_TO_ZSTD}x ${REFERENCE_NAMES.zstd}`, results.zstdRuns[1], MAX_FULL_ZSTD_TO_ZSTD, 'zstd'),
    ratioVerdict(`incremental run, 1% changed <= ${MAX_INCREMENTAL_TO_PIGZ}x ${pigz} of the whole volume`, results.firstIncremental, MAX_INCREMENTAL_TO_PIGZ),
    {
      target: `incremental archive <= ${percent(MAX_INCREMENTAL_SHARE)} of the full archive`,
      measured: percent(share),
      met: share <= MAX_INCREMENTAL_SHARE,
    },
    {
      target: `restore of a full archive + ${INCREMENTALS} incrementals <= ${MAX_RESTORE_TO_TAR}x \`tar -xzf\` of the full archive`,
      measured: ratio(restore),
      met: restore <= MAX_RESTORE_TO_TAR,
    },
    {
      target: `downtime with 1% changed and an attached container <= ${seconds(MAX_DOWNTIME_MS)}`,
      measured: downtime(changed.run.record),
      met: (changed.run.record.downtimeMs ?? 0) <= MAX_DOWNTIME_MS,
    },
    {
      target: `plugin peak RSS during any backup or restore <= ${kib(MAX_PLUGIN_PEAK_KIB)}`,
      measured: `backups ${kib(backupPeak(results))}, restores ${kib(restorePeak(results))}`,
      met: peak <= MAX_PLUGIN_PEAK_KIB,
    },
    {
      target: `plugin idle RSS after enable <= ${kib(MAX_IDLE_RSS_KIB)}`,
      measured: kib(results.idleRssKiB),
      met: results.idleRssKiB <= MAX_IDLE_RSS_KIB,
    },
  ];
}

function perRound(wallMs: number[]): string {
  return wallMs.map((ms) => (ms / 1000).toFixed(2)).join(' / ');
}

function ratioVerdict(target: string, run: MeasuredRun, max: number, reference: ArchiveReference = 'pigz'): Verdict {
  const value = run.run.wallMs / run.references[reference];
  return { target: `${target} (wall time)`, measured: ratio(value), met: value <= max };
}
