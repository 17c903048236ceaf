/**
 * Waits for every step of a pipeline and rejects with the first failure, aborting `teardown` as soon as one
 * fails so the others stop (and then fail with AbortError, which is not the cause). Settling only when all
 * have stopped means no file, process or worker is left running behind a rejection.
 */
export async function settleAll(steps: Array<Promise<unknown>>, teardown: AbortController): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (const step of steps) {
    step.catch((error: unknown) => {
      failure ??= { error };
      teardown.abort(error);
    });
  }
  await Promise.allSettled(steps);
  if (failure) throw failure.error;
}
