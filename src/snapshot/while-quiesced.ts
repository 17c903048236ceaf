import { performance } from 'node:perf_hooks';
import type { Resume } from '../engine/stop-containers';

/**
 * Runs `work` with the containers stopped and starts them again whatever happened. Downtime runs from
 * asking them to stop until they are started again. A failing restart never hides the failure of the work:
 * both end up in the one error thrown.
 */
export async function whileQuiesced<T>(
  quiesce: () => Promise<Resume>,
  work: () => Promise<T>,
): Promise<{ result: T; downtimeMs: number }> {
  const stoppingAt = performance.now();
  const resume = await quiesce();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await resumeAfterFailure(resume, error);
    throw error;
  }
  await resume();
  return { result, downtimeMs: Math.round(performance.now() - stoppingAt) };
}

async function resumeAfterFailure(resume: Resume, failure: unknown): Promise<void> {
  try {
    await resume();
  } catch (resumeError) {
    const message = `${(failure as Error).message}; starting the containers again failed too: ${(resumeError as Error).message}`;
    throw new Error(message, { cause: failure });
  }
}
