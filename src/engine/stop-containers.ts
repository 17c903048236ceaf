import type { DockerApi } from './docker-api';
import type { Logger } from '../shared/logger';
import { setTimeout as delay } from 'node:timers/promises';
import { withTimeout } from '../shared/with-timeout';
import { bringBack, failedWork } from './bring-back';
import { maskCredentials } from './redact-spec';
import type { PlannedCommand, PlannedScale, PlannedStop } from './plan-quiesce';
import type { StopJournal } from './stop-journal';
import { DOCKER_DEFAULT_STOP_SIGNAL, describeContainerStop, effectiveStopTimeout, wasKilled, type ContainerStop } from '../vocabulary/container-stop';

/** Starts again exactly what a stop stopped. */
export type Resume = () => Promise<void>;

/** stopContainers' undo also says what could not come back because it no longer exists (e.g. --rm). */
export type ResumeReportingGone = () => Promise<{ gone: string[] }>;

const TASK_POLL_MS = 500;

/**
 * Stops the planned containers and scales the planned services to 0, all together (downtime is the
 * slowest of them, not the sum), and returns the undo. Each container gets its own stop signal and stop
 * timeout, capped by maxTimeoutSeconds (STOP_TIMEOUT) when set; onStopped hears how each stop went. The
 * journal is written first; if anything refuses to stop in time, everything is brought back before the
 * error is thrown.
 */
export async function stopContainers(input: {
  docker: DockerApi;
  journal: StopJournal;
  volume: string;
  stops: PlannedStop[];
  scales?: PlannedScale[];
  maxTimeoutSeconds?: number;
  serviceTimeoutSeconds?: number;
  onStopped?: (stop: ContainerStop) => void;
  logger: Logger;
}): Promise<ResumeReportingGone> {
  const { docker, journal, volume, stops, logger } = input;
  const scales = input.scales ?? [];
  if (stops.length === 0 && scales.length === 0) return async () => ({ gone: [] });
  await journal.record(volume, stops, scales);
  const resume: ResumeReportingGone = async () => {
    const { failures, gone } = await bringBack({ docker, journal, volume, stops, scales, logger });
    if (failures.length > 0) throw new Error(`could not bring back: ${failures.join('; ')} (retried in the background; see leftDown in the status)`);
    logger.info(`Brought back what was stopped for volume ${volume}`);
    return { gone };
  };

  const work = [
    ...stops.map((stop) => ({
      what: stop.name,
      done: stopOne(docker, stop, input.maxTimeoutSeconds).then((stopped) => {
        if (stopped.killed) logger.warn(`Volume ${volume}: ${describeContainerStop(stopped)}`);
        input.onStopped?.(stopped);
      }),
    })),
    ...scales.map((scale) => ({
      what: `service ${scale.name}`,
      done: scaleToZero(docker, scale, input.serviceTimeoutSeconds ?? DEFAULT_SERVICE_STOP_TIMEOUT_SECONDS),
    })),
  ];
  logger.info(`Stopping for volume ${volume}: ${work.map((item) => item.what).join(', ')}`);
  const failures = await failedWork(work);
  if (failures.length > 0) {
    const stopError = new Error(`refused to stop: ${failures.map(({ message }) => message).join('; ')}`);
    await resume().catch((error: Error) => logger.error(`After a failed stop, ${error.message}`));
    throw stopError;
  }
  logger.info(`Stopped everything for volume ${volume}`);
  return resume;
}

/** SERVICE_STOP_TIMEOUT's default (settings.ts). */
const DEFAULT_SERVICE_STOP_TIMEOUT_SECONDS = 300;

async function stopOne(docker: DockerApi, stop: PlannedStop, maxTimeoutSeconds: number | undefined): Promise<ContainerStop> {
  const own = await docker.stopSettings(stop.id);
  const timeoutSeconds = effectiveStopTimeout(own.timeoutSeconds, maxTimeoutSeconds);
  const started = performance.now();
  await docker.stopContainer(stop.id, timeoutSeconds);
  const ms = Math.round(performance.now() - started);
  return { container: stop.name, signal: own.signal ?? DOCKER_DEFAULT_STOP_SIGNAL, timeoutSeconds, ms, killed: wasKilled(ms, timeoutSeconds) };
}

/** Scales to 0 and waits until no task of the service runs any more. */
async function scaleToZero(docker: DockerApi, scale: PlannedScale, timeoutSeconds: number): Promise<void> {
  await docker.scaleService(scale.id, 0);
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const active = await docker.activeTaskCount(scale.id);
    if (active === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`${active} task(s) still running after ${timeoutSeconds} s (SERVICE_STOP_TIMEOUT)`);
    }
    await delay(TASK_POLL_MS);
  }
}

/** HOOK_TIMEOUT's default (settings.ts). */
const DEFAULT_HOOK_TIMEOUT_SECONDS = 300;

/**
 * Runs archive-pre or archive-post commands one after another; the first failure throws. Each may run
 * HOOK_TIMEOUT seconds: a command that hangs (a dump waiting on a lock) would otherwise hold the volume
 * and a MAX_CONCURRENT_BACKUPS slot for good.
 */
export async function runLabelCommands(input: {
  docker: DockerApi;
  commands: PlannedCommand[];
  phase: 'archive-pre' | 'archive-post';
  logger: Logger;
  timeoutSeconds?: number;
}): Promise<void> {
  const timeoutSeconds = input.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS;
  for (const { containerId, containerName, command } of input.commands) {
    input.logger.info(`Running ${input.phase} command in container ${containerName}`);
    const result = await withTimeout(
      timeoutSeconds * 1000,
      (signal) => input.docker.exec(containerId, command, { signal }),
      () =>
        new Error(
          `${input.phase} command in container ${containerName} did not finish in ${timeoutSeconds} s (HOOK_TIMEOUT); ` +
            'it may still be running in the container',
        ),
    );
    if (result.exitCode !== 0) {
      // The output goes into the status, the log and a notification: a hook run with `set -x`, or a
      // tool that echoes its command line, would put the password typed in the label there.
      const output = result.output ? `: ${maskCredentials(result.output).slice(-500)}` : '';
      throw new Error(`${input.phase} command in container ${containerName} exited with ${result.exitCode}${output}`);
    }
    input.logger.info(`Ran ${input.phase} command in container ${containerName}`);
  }
}
