import { spawnSync } from 'node:child_process';
import { measureProcess, type ProcessMeasurement } from './measure-process';
import { readNodeChildReport } from './node-child';
import type { Verdict } from './section';
import { mebibytes, median, seconds } from './stats';

/** A pipeline of a comparison: ours run as a bench child (node-child.ts), which reports its peak RSS. */
export interface ComparedPipeline {
  name: string;
  ours: boolean;
}

interface Runs {
  measurements: ProcessMeasurement[];
  /** Reported by our child itself: process.resourceUsage().maxRSS. */
  nodeMaxRssKiB: number[];
}

/**
 * Our pipelines against the reference ones, measured in rounds: each round runs every pipeline once, in
 * turn. Runs of a round are adjacent in time, so their ratio is the least moved by other work on the
 * machine: verdicts use the median of the per-round ratios.
 */
export class PipelineRounds<K extends string> {
  private readonly runs = new Map<K, Runs>();

  constructor(private readonly pipelines: Record<K, ComparedPipeline>) {}

  /** `measure` runs one pipeline (measureFlushed) and does what it needs before and after, unmeasured. */
  async run(rounds: number, measure: (key: K) => Promise<ProcessMeasurement>): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      for (const key of this.keys()) {
        const measurement = await measure(key);
        const runs = this.runs.get(key) ?? { measurements: [], nodeMaxRssKiB: [] };
        runs.measurements.push(measurement);
        if (this.pipelines[key].ours) runs.nodeMaxRssKiB.push(readNodeChildReport(measurement.stdout).maxRssKiB);
        this.runs.set(key, runs);
        process.stderr.write(`  ${this.pipelines[key].name}: ${seconds(measurement.wallMs)}\n`);
      }
    }
  }

  keys(): K[] {
    return Object.keys(this.pipelines) as K[];
  }

  wallMs(key: K): number[] {
    return this.get(key).measurements.map((m) => m.wallMs);
  }

  cpu(key: K): number {
    return median(this.get(key).measurements.map((m) => m.cpuMs));
  }

  pairedRatio(ours: K, reference: K): number {
    const references = this.wallMs(reference);
    return median(this.wallMs(ours).map((ms, round) => ms / references[round]));
  }

  /** wall (median), wall per round, CPU (median). */
  timingCells(key: K): string[] {
    const wallMs = this.wallMs(key);
    return [seconds(median(wallMs)), wallMs.map((ms) => (ms / 1000).toFixed(2)).join(' / '), seconds(this.cpu(key))];
  }

  /** node peak RSS (ours only), process tree peak RSS. */
  rssCells(key: K): string[] {
    const { measurements, nodeMaxRssKiB } = this.get(key);
    const nodeRss = nodeMaxRssKiB.length > 0 ? mebibytes(Math.max(...nodeMaxRssKiB) * 1024) : '';
    return [nodeRss, mebibytes(Math.max(...measurements.map((m) => m.treePeakRssKiB)) * 1024)];
  }

  /** ratio, wall (median of per-round ratios), wall (ratio of medians), CPU. */
  ratioCells(ours: K, reference: K): string[] {
    return [
      `${this.pipelines[ours].name} / ${this.pipelines[reference].name}`,
      `${this.pairedRatio(ours, reference).toFixed(2)}x`,
      `${(median(this.wallMs(ours)) / median(this.wallMs(reference))).toFixed(2)}x`,
      `${(this.cpu(ours) / this.cpu(reference)).toFixed(2)}x`,
    ];
  }

  timeVerdict(ours: K, reference: K, max: number): Verdict {
    const ratio = this.pairedRatio(ours, reference);
    return {
      target: `${this.pipelines[ours].name} <= ${max}x ${this.pipelines[reference].name} (wall time)`,
      measured: `${ratio.toFixed(2)}x`,
      met: ratio <= max,
    };
  }

  /** The largest peak RSS any of our children reported, in KiB. */
  peakNodeRssKiB(): number {
    return Math.max(...this.keys().flatMap((key) => this.get(key).nodeMaxRssKiB));
  }

  private get(key: K): Runs {
    const runs = this.runs.get(key);
    if (!runs) throw new Error(`${this.pipelines[key].name} was not measured`);
    return runs;
  }
}

/** Flushes what earlier runs wrote first, so no pipeline pays for another's writeback. */
export function measureFlushed(command: string, args: string[]): Promise<ProcessMeasurement> {
  spawnSync('sync');
  return measureProcess(command, args);
}

/** The note under a comparison's tables: what its columns measure. */
export function measuresNote(ourCall: string): string {
  return (
    'CPU: user + system time of the pipeline and all its processes. Node peak RSS: `process.resourceUsage().maxRSS` ' +
    `in the child that runs ${ourCall} (the Node process doing the work). Process tree: the sum of each ` +
    "process's peak (VmHWM) sampled every 50 ms, compressor included. Verdicts use the median of per-round wall ratios."
  );
}
