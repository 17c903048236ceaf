/** Quiesce work under way, named for the messages. */
export interface Work {
  what: string;
  done: Promise<unknown>;
}

/**
 * Waits for all of the work, not only until the first failure (each piece stops or brings back something
 * the user runs), and returns the pieces that failed, each with a message that names it and says why.
 */
export async function failedWork<W extends Work>(work: W[]): Promise<{ work: W; message: string; reason: unknown }[]> {
  const results = await Promise.allSettled(work.map((item) => item.done));
  return results.flatMap((result, index) =>
    result.status === 'rejected'
      ? [{ work: work[index], message: `${work[index].what}: ${(result.reason as Error).message}`, reason: result.reason as unknown }]
      : [],
  );
}
