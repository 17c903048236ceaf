import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunRecord } from '../src/vocabulary/run-record';
import { HOST_ARCHIVE_DIR } from '../test/helpers/archives';
import { installFreshPlugin } from '../test/helpers/plugin';
import { removeObjectsWithPrefix } from '../test/helpers/unique-prefix';
import { changeSmallFiles } from './corpus-changes';
import {
  backUp,
  benchPrefix,
  checkEngineRoom,
  countFiles,
  createFilledVolume,
  FULL_EVERY,
  IDLE_SETTLE_MS,
  INCREMENTALS,
  missingForE2e,
  pluginMemory,
  restoreInto,
  startIdleContainer,
  volumeDataDir,
  type TimedRun,
} from './e2e-engine';
import { referenceArchive, referenceExtract, ResticReference } from './e2e-references';
import { e2eReport, type E2eResults, type MeasuredRun, type RestoreRound } from './e2e-report';
import { INODE_REUSE_DELAY_MS } from './restore-section';
import type { BenchContext, BenchSection, SectionReport } from './section';
import { SETTLE_MS } from './snapshot-section';
import { seconds } from './stats';

/** Seeds of the 1% changes, so every run of the bench makes the same ones. */
const SEED = 7_350_000;

export const e2eSection: BenchSection = {
  name: 'e2e',
  title: 'End to end: `backupvol backup` and `restore` through the installed plugin',
  async run(context: BenchContext): Promise<SectionReport> {
    const missing = await missingForE2e();
    if (missing) {
      process.stderr.write(`  skipped: ${missing}\n`);
      return { markdown: `Skipped: ${missing}.`, verdicts: [] };
    }
    await checkEngineRoom(context.corpus.bytes, context.runs);
    const started = performance.now();
    const prefix = benchPrefix();
    const volumes = { single: `${prefix}full`, zstd: `${prefix}zstd`, chain: `${prefix}chain` };
    try {
      // A fresh plugin process: its VmRSS is the idle figure, and no earlier run's peak lingers.
      await installFreshPlugin();
      await sleep(IDLE_SETTLE_MS);
      const idle = await pluginMemory();
      await createFilledVolume(volumes.single, context.corpus.dir, []);
      await createFilledVolume(volumes.zstd, context.corpus.dir, ['backup-compression=zstd']);
      await createFilledVolume(volumes.chain, context.corpus.dir, [`backup-full-every=${FULL_EVERY}`]);
      const restic = await ResticReference.ifInstalled(context.workDir);
      // The first run writes the whole mirror: no file creation may pay for an earlier section's deletions.
      await sleep(Math.max(0, started + INODE_REUSE_DELAY_MS - performance.now()));
      const fullVolumeRuns = await singleVolumeRuns(context, volumes.single, `${prefix}app`);
      const zstdRuns = [await measuredRun('first run, zstd', volumes.zstd, context), await measuredRun('nothing changed, zstd', volumes.zstd, context)];
      const chain = await chainRuns(context, volumes.chain, restic);
      const newest = chain.laterIncrementals[chain.laterIncrementals.length - 1].record;
      const restores = await restoreRounds(context, prefix, volumes.chain, chain.chainFull.run.record, newest);
      const resticVersion = restic ? ResticReference.version() : undefined;
      return e2eReport(context, { idleRssKiB: idle.rssKiB, fullVolumeRuns, zstdRuns, ...chain, restores, restic: resticVersion });
    } finally {
      await removeObjectsWithPrefix(prefix);
    }
  },
};

/** A 1% change of the volume's small files, left to settle as a change between two runs would be. */
async function changeVolume(context: BenchContext, volume: string, seed: number): Promise<void> {
  await changeSmallFiles(volumeDataDir(volume), context.corpus.shape, SEED + seed);
  await sleep(SETTLE_MS);
}

/** The default options, every archive full: the first run, one with nothing changed, one with 1% and a container. */
async function singleVolumeRuns(context: BenchContext, volume: string, container: string): Promise<MeasuredRun[]> {
  const first = await measuredRun('first run (makes the sync mirror)', volume, context);
  const unchanged = await measuredRun('nothing changed', volume, context);
  await changeVolume(context, volume, 0);
  await startIdleContainer(container, volume);
  const changed = await measuredRun('1% changed, attached container', volume, context);
  if (!changed.run.record.stopped.includes(container)) {
    throw new Error(`the run did not stop the attached container: ${JSON.stringify(changed.run.record)}`);
  }
  return [first, unchanged, changed];
}

/** backup-full-every: the full run, then incrementals with 1% changed before each; the first has references. */
async function chainRuns(
  context: BenchContext,
  volume: string,
  restic: ResticReference | undefined,
): Promise<Pick<E2eResults, 'chainFull' | 'firstIncremental' | 'laterIncrementals'>> {
  const chainFull = await measuredRun(`full, backup-full-every=${FULL_EVERY}`, volume, context, restic);
  expectKind(chainFull.run.record, 'full');
  await changeVolume(context, volume, 1);
  const firstIncremental = await measuredRun('incremental, 1% changed', volume, context, restic);
  expectKind(firstIncremental.run.record, 'incremental');
  const laterIncrementals: TimedRun<RunRecord>[] = [];
  for (let link = 2; link <= INCREMENTALS; link++) {
    await changeVolume(context, volume, link);
    const run = await backUp(volume);
    expectKind(run.record, 'incremental');
    laterIncrementals.push(run);
    process.stderr.write(`  incremental ${link}: ${seconds(run.wallMs)}\n`);
  }
  return { chainFull, firstIncremental, laterIncrementals };
}

/**
 * The archive references on the volume's data as it stands, then the plugin's run on the same data: seconds
 * apart, so that their ratio is the least moved by other work on the machine.
 */
async function measuredRun(label: string, volume: string, context: BenchContext, restic?: ResticReference): Promise<MeasuredRun> {
  const data = volumeDataDir(volume);
  const pigz = await referenceArchive('pigz', data, context.workDir);
  const zstd = await referenceArchive('zstd', data, context.workDir);
  const resticMs = restic ? await restic.backup(data) : undefined;
  const run = await backUp(volume);
  process.stderr.write(`  ${label}: ${seconds(run.wallMs)} (pigz ${seconds(pigz)}, zstd ${seconds(zstd)})\n`);
  return { label, run, references: { pigz, zstd }, resticMs };
}

function expectKind(record: RunRecord, kind: 'full' | 'incremental'): void {
  if (record.kind !== kind) throw new Error(`${record.archive}: expected kind ${kind}, the run record says ${record.kind ?? 'nothing'}`);
}

/**
 * The newest point of the chain restored into a new volume, against GNU tar extracting the full archive
 * alone, in rounds. Nothing is deleted meanwhile (see restore-section.ts), so every round creates its files
 * on the same terms.
 */
async function restoreRounds(context: BenchContext, prefix: string, chain: string, full: RunRecord, newest: RunRecord): Promise<RestoreRound[]> {
  const expectedFiles = await countFiles(volumeDataDir(chain));
  const rounds: RestoreRound[] = [];
  for (let round = 0; round < context.runs; round++) {
    const into = `${prefix}restored-${round}`;
    const ours = await restoreInto(chain, newest.archive as string, into);
    const restoredFiles = await countFiles(volumeDataDir(into));
    if (restoredFiles !== expectedFiles) throw new Error(`the restore into ${into} wrote ${restoredFiles} files, the volume has ${expectedFiles}`);
    const destination = join(context.workDir, `e2e-tar-${round}`);
    const tarMs = await referenceExtract(join(HOST_ARCHIVE_DIR, chain, full.archive as string), destination);
    const extracted = await countFiles(destination);
    if (extracted !== context.corpus.files) throw new Error(`tar -xzf extracted ${extracted} files, the corpus has ${context.corpus.files}`);
    rounds.push({ ours, tarMs, files: restoredFiles });
    process.stderr.write(`  restore round ${round + 1}: backupvol ${seconds(ours.wallMs)}, tar -xzf ${seconds(tarMs)}\n`);
  }
  return rounds;
}
