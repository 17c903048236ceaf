import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveSection } from './archive-section';
import { corpusShape, ensureCorpus } from './corpus';
import { e2eSection } from './e2e-section';
import { restoreSection } from './restore-section';
import type { BenchSection, Verdict } from './section';
import { snapshotSection } from './snapshot-section';

/**
 * `npm run bench`: generates the deterministic corpus, runs each section and prints a Markdown report for
 * BENCHMARKS.md. Environment:
 *   BENCH_DIR       where the corpus and outputs go (default: a new folder under the system temp dir)
 *   BENCH_SCALE     multiplies the corpus (default 1: ~700 MB)
 *   BENCH_RUNS      repetitions of each measurement (default 3)
 *   BENCH_SECTIONS  comma list of sections to run (default: all: archive, snapshot, restore, e2e)
 *   BENCH_KEEP=1    keep the corpus afterwards (a later run with the same BENCH_DIR and scale reuses it)
 *   BENCH_OUT       also write the report to this file
 */
const SECTIONS: BenchSection[] = [archiveSection, snapshotSection, restoreSection, e2eSection];

async function main(): Promise<void> {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  const runs = Number(process.env.BENCH_RUNS ?? '3');
  if (!(scale > 0) || !Number.isInteger(runs) || runs < 1) throw new Error('BENCH_SCALE must be > 0 and BENCH_RUNS an integer >= 1');
  const wanted = process.env.BENCH_SECTIONS?.split(',').map((name) => name.trim());
  const sections = SECTIONS.filter((section) => !wanted || wanted.includes(section.name));
  const dir = process.env.BENCH_DIR ?? (await mkdtemp(join(tmpdir(), 'backupvol-bench-')));
  await mkdir(dir, { recursive: true });
  const workDir = join(dir, 'work');
  await mkdir(workDir, { recursive: true });
  try {
    process.stderr.write(`Preparing the corpus (scale ${scale}) in ${dir}\n`);
    const corpus = await ensureCorpus(dir, corpusShape(scale));
    const parts = [`## ${new Date().toISOString().slice(0, 10)}, scale ${scale}`, '', machine(), ''];
    const verdicts: Verdict[] = [];
    for (const section of sections) {
      process.stderr.write(`Section ${section.name}\n`);
      const report = await section.run({ corpus, workDir, runs });
      parts.push(`### ${section.title}`, '', report.markdown, '');
      verdicts.push(...report.verdicts);
    }
    parts.push('### Verdict', '', ...verdicts.map((v) => `- ${v.met ? 'met' : 'NOT met'}: ${v.target} (measured ${v.measured})`), '');
    const markdown = parts.join('\n');
    process.stdout.write(markdown);
    if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, markdown);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP !== '1') {
      await rm(process.env.BENCH_DIR ? join(dir, 'data') : dir, { recursive: true, force: true });
      await rm(join(dir, 'corpus.json'), { force: true });
    }
  }
}

function machine(): string {
  const version = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
    } catch {
      return 'not installed';
    }
  };
  return [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ` +
      `${version('tar', ['--version'])}, ${version('pigz', ['--version'])}, ${version('zstd', ['--version'])}, ` +
      `${version('gzip', ['--version'])}. Load average when the run started: ${loadavg()[0].toFixed(2)} ` +
      '(other work on the machine skews wall times; the runs are interleaved so that each ratio compares like with like).',
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
