import { formatBytes, formatDuration } from '../shared/format';
import { runOutcome, type DrillRecord, type RunOutcome, type RunRecord } from '../vocabulary/run-record';

/** The JSON a webhook receives after a backup run. */
export interface RunSummary extends RunOutcome {
  event: 'backup';
  volume: string;
  trigger: RunRecord['trigger'];
  startedAt: string;
  finishedAt: string;
  quiesced: boolean;
  warning: string | null;
  /** One line for people: Slack (and Mattermost, Rocket.Chat...) show `text`. */
  text: string;
  /** The same line for Discord, which reads `content`. */
  content: string;
}

export function summarizeRun(volume: string, record: RunRecord): RunSummary {
  const text =
    record.result === 'success'
      ? `backupvol: backed up volume ${volume} as ${record.archive} (${formatBytes(record.bytes ?? 0)} in ${formatDuration(record.durationMs)}, downtime ${formatDuration(record.downtimeMs ?? 0)})${record.warning ? `; warning: ${record.warning}` : ''}`
      : `backupvol: backup of volume ${volume} FAILED after ${formatDuration(record.durationMs)}: ${record.error ?? 'unknown error'}`;
  return {
    event: 'backup',
    volume,
    ...runOutcome(record),
    trigger: record.trigger,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    quiesced: record.quiesced,
    warning: record.warning ?? null,
    text,
    content: text,
  };
}

/** The JSON a webhook receives after a restore drill. */
export interface DrillSummary {
  event: 'drill';
  volume: string;
  result: DrillRecord['result'];
  trigger: DrillRecord['trigger'];
  time: string;
  archive: string | null;
  seconds: number;
  mbPerSecond: number | null;
  error: string | null;
  text: string;
  content: string;
}

export function summarizeDrill(volume: string, record: DrillRecord): DrillSummary {
  const text =
    record.result === 'ok'
      ? `backupvol: restore drill of volume ${volume} ok: ${record.archive} restored and checked in ${record.seconds} s (${record.mbPerSecond ?? 0} MB/s)`
      : `backupvol: restore drill of volume ${volume} FAILED after ${record.seconds} s: ${record.error ?? 'unknown error'}`;
  return {
    event: 'drill',
    volume,
    result: record.result,
    trigger: record.trigger,
    time: record.time,
    archive: record.archive ?? null,
    seconds: record.seconds,
    mbPerSecond: record.mbPerSecond ?? null,
    error: record.error ?? null,
    text,
    content: text,
  };
}
