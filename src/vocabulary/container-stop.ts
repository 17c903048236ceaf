import { formatDuration } from '../shared/format';

/** Docker's own stop timeout for a container that sets none (`docker stop` without -t). */
export const DOCKER_DEFAULT_STOP_TIMEOUT_SECONDS = 10;
/** What the engine sends first when a container names no StopSignal. */
export const DOCKER_DEFAULT_STOP_SIGNAL = 'SIGTERM';

/** How one container's stop went, as the run record keeps it. */
export interface ContainerStop {
  container: string;
  /** The signal the engine sent first: the container's own StopSignal (compose `stop_signal`). */
  signal: string;
  /** What it had before the engine killed it: its own stop timeout, at most STOP_TIMEOUT when that is set. */
  timeoutSeconds: number;
  /** From the stop request to the container being down. */
  ms: number;
  /** It was still running when its timeout ran out, so the engine killed it (SIGKILL). */
  killed: boolean;
}

/**
 * The container's own stop timeout (compose `stop_grace_period`, `docker run --stop-timeout`), or
 * Docker's 10 s; STOP_TIMEOUT, when the user set it, caps it: an operator may want short downtime more
 * than a clean shutdown, never the other way round behind the container's back.
 */
export function effectiveStopTimeout(ownSeconds: number | undefined, maxSeconds: number | undefined): number {
  const own = ownSeconds !== undefined && ownSeconds >= 0 ? ownSeconds : DOCKER_DEFAULT_STOP_TIMEOUT_SECONDS;
  return maxSeconds === undefined ? own : Math.min(own, maxSeconds);
}

/**
 * The engine answers a stop once the container is down, and kills it when its timeout runs out: an
 * answer that took the whole timeout means the signal was not enough. A timeout of 0 is a kill at once.
 */
export function wasKilled(elapsedMs: number, timeoutSeconds: number): boolean {
  return elapsedMs >= timeoutSeconds * 1000;
}

/** `app stopped on SIGTERM in 310 ms`, or `app ignored SIGTERM and was killed after 2 s`. */
export function describeContainerStop(stop: ContainerStop): string {
  return stop.killed
    ? `${stop.container} ignored ${stop.signal} and was killed after ${stop.timeoutSeconds} s`
    : `${stop.container} stopped on ${stop.signal} in ${formatDuration(stop.ms)}`;
}

/** The run's warning about containers that had to be killed; undefined when every one stopped cleanly. */
export function killedContainersWarning(stops: ContainerStop[]): string | undefined {
  const killed = stops.filter((stop) => stop.killed);
  return killed.length > 0 ? killed.map(describeContainerStop).join('; ') : undefined;
}
