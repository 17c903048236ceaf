/**
 * Entry point of a bench child: a Node process that runs one piece of our own code, so the bench can read
 * that process's peak RSS without the corpus generator's or the other runs' garbage in it. The child
 * prints what `work` returned plus its peak RSS as one line of JSON, read back with readNodeChildReport.
 */
export function runNodeChild(work: (args: string[]) => Promise<object>): void {
  work(process.argv.slice(2)).then(
    // maxRSS is in KiB on Linux.
    (result) => process.stdout.write(`${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

export type NodeChildReport<T extends object> = T & { maxRssKiB: number };

export function readNodeChildReport<T extends object>(stdout: string): NodeChildReport<T> {
  return JSON.parse(stdout) as NodeChildReport<T>;
}
