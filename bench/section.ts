import type { Corpus } from './corpus';

/** What every section gets: the shared corpus and a scratch folder on the same filesystem. */
export interface BenchContext {
  corpus: Corpus;
  workDir: string;
  /** Repetitions of each measurement; sections report medians. */
  runs: number;
}

export interface Verdict {
  target: string;
  measured: string;
  met: boolean;
}

export interface SectionReport {
  /** Markdown for BENCHMARKS.md: tables and notes. */
  markdown: string;
  verdicts: Verdict[];
}

/** One file per section under bench/, listed in run.ts. */
export interface BenchSection {
  name: string;
  title: string;
  run(context: BenchContext): Promise<SectionReport>;
}
