// Loaded only when METRICS_ADDR is set (main.ts requires the metrics server lazily): prom-client and its
// default collectors cost memory and timers that an idle plugin without metrics must not pay for.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { RunState } from '../vocabulary/run-record';
import type { RunResultCounts } from './run-counts';

/**
 * What the metrics are read from at each scrape: the plugin's own state, so nothing is kept twice and a
 * scrape always agrees with `docker volume inspect`.
 */
export interface MetricsSource {
  /** The volumes the plugin has, by name. */
  volumes(): string[];
  state(volume: string): RunState;
  nextRun(volume: string): Date | undefined;
  counts(volume: string): RunResultCounts;
  /** How far the volume's running backup, restore or drill got (0-1), when that is known. */
  progress?(volume: string): number | undefined;
}

export interface MetricsOptions {
  /** prom-client's process metrics (CPU, memory, event loop lag, GC); off in tests that count series. */
  processMetrics?: boolean;
}

/** One value of a per-volume gauge; undefined leaves the volume's series out (e.g. never succeeded). */
type VolumeValue = (volume: string, source: MetricsSource) => number | undefined;

const VOLUME_GAUGES: { name: string; help: string; value: VolumeValue }[] = [
  {
    name: 'backupvol_last_success_timestamp_seconds',
    help: 'When the last successful backup of the volume finished (absent until one has)',
    value: (volume, source) => seconds(source.state(volume).lastSuccessAt),
  },
  {
    name: 'backupvol_backup_duration_seconds',
    help: 'How long the last backup run of the volume took, successful or not',
    value: (volume, source) => milliseconds(source.state(volume).lastRun?.durationMs),
  },
  {
    name: 'backupvol_downtime_seconds',
    help: "How long the last backup run kept the volume's containers stopped",
    value: (volume, source) => milliseconds(source.state(volume).lastRun?.downtimeMs),
  },
  {
    name: 'backupvol_archive_bytes',
    help: 'Bytes of the archive the last backup run wrote (absent when it wrote none)',
    value: (volume, source) => source.state(volume).lastRun?.bytes,
  },
  {
    name: 'backupvol_archives',
    help: 'Complete archives of the volume held by its targets, as last counted after a run',
    value: (volume, source) => source.state(volume).archiveCount ?? 0,
  },
  {
    name: 'backupvol_drill_seconds',
    help: 'How long the last restore drill of the volume took: its recovery time (absent until one ran)',
    value: (volume, source) => source.state(volume).lastDrill?.seconds,
  },
  {
    name: 'backupvol_run_progress_ratio',
    help: "How far the volume's running backup, restore or drill got, 0 to 1 (absent when none runs or its total is unknown)",
    value: (volume, source) => source.progress?.(volume),
  },
  {
    name: 'backupvol_next_run_timestamp_seconds',
    help: 'When the next scheduled backup of the volume is due (absent without a schedule)',
    value: (volume, source) => {
      const next = source.nextRun(volume);
      return next ? next.getTime() / 1000 : undefined;
    },
  },
];

/** A registry of its own (not prom-client's global one), filled from `source` each time it is scraped. */
export function createMetricsRegistry(source: MetricsSource, options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  for (const { name, help, value } of VOLUME_GAUGES) {
    new Gauge({
      name,
      help,
      labelNames: ['volume'],
      registers: [registry],
      collect() {
        this.reset();
        for (const volume of source.volumes()) {
          const figure = value(volume, source);
          if (figure !== undefined) this.set({ volume }, figure);
        }
      },
    });
  }
  new Counter({
    name: 'backupvol_backups_total',
    help: 'Backup runs of the volume since the plugin started, by result (success, failed)',
    labelNames: ['volume', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const volume of source.volumes()) {
        // Both results always, at 0 too: a rule on result="failed" sees the series before the first failure.
        for (const [result, count] of Object.entries(source.counts(volume))) this.inc({ volume, result }, count);
      }
    },
  });
  new Gauge({
    name: 'backupvol_drill_last_timestamp_seconds',
    help: 'When the last restore drill of the volume ran, labelled with its result (ok, failed)',
    labelNames: ['volume', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const volume of source.volumes()) {
        const drill = source.state(volume).lastDrill;
        const time = seconds(drill?.time);
        if (drill && time !== undefined) this.set({ volume, result: drill.result }, time);
      }
    },
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

function seconds(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : time / 1000;
}

function milliseconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}
