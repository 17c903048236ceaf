import { formatDuration } from '../shared/format';

/**
 * The phases of a backup run, in the order they run (direct mode archives between stop and start).
 * `room-check` is sync and copy mode's check that the staging filesystem has room for the mirror or copy
 * (a walk of the volume and the mirror when it has less room free than the volume's filesystem has in
 * use). The hash and, for remote targets, the upload are streamed with the compression, so they are part
 * of `archive`; `fsync` is the archive reaching stable storage (the fsync of a folder target's file, the
 * completion of a remote upload).
 */
export const RUN_PHASES = [
  'prepare',
  'archive-pre',
  'room-check',
  'live-pass',
  'stop',
  'stopped-pass',
  'start',
  'archive',
  'fsync',
  'manifest',
  'verify',
  'archive-post',
  'prune',
] as const;
export type RunPhase = (typeof RUN_PHASES)[number];
/** Milliseconds spent in each phase that ran; they add up to no more than the run's durationMs. */
export type PhaseTimings = Partial<Record<RunPhase, number>>;

/** For the log: `live-pass 1.2 s, stop 310 ms, ...`, in the order the phases run. */
export function describePhases(timings: PhaseTimings): string {
  return RUN_PHASES.filter((phase) => timings[phase] !== undefined)
    .map((phase) => `${phase} ${formatDuration(timings[phase])}`)
    .join(', ');
}
