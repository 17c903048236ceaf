/**
 * Runs work with an AbortSignal that aborts after `ms`; when work fails because of it, the error is
 * timedOut()'s (saying what took too long and which setting bounds it). Unlike AbortSignal.timeout's, the
 * timer keeps the process alive while it runs, and is cleared as soon as work settles.
 */
export async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, timedOut: () => Error): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timedOut()), ms);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
