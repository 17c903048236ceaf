import { open, stat } from 'node:fs/promises';
import { run } from './docker-cli';

/** Where scripts/ensure-docker.sh (and CI) let dockerd log; a systemd engine logs to the journal instead. */
const DOCKERD_LOG = process.env.BACKUPVOL_DOCKERD_LOG ?? '/tmp/dockerd.log';

/** A point in the engine's log, to read what was logged after it. */
export interface LogMark {
  offset?: number;
  since: Date;
}

export async function markEngineLog(): Promise<LogMark> {
  const size = await stat(DOCKERD_LOG).then((stats) => stats.size, () => undefined);
  return { offset: size, since: new Date() };
}

/**
 * The lines of the engine's log written since `mark` that come from the plugins with these ids: the
 * engine copies a managed plugin's stdout and stderr into its own log, tagged `plugin=ID`.
 */
export async function pluginLogSince(mark: LogMark, pluginIds: readonly string[]): Promise<string[]> {
  let text: string;
  if (mark.offset !== undefined) {
    const file = await open(DOCKERD_LOG, 'r');
    try {
      const { size } = await file.stat();
      const buffer = Buffer.alloc(Math.max(0, size - mark.offset));
      await file.read(buffer, 0, buffer.length, mark.offset);
      text = buffer.toString('utf8');
    } finally {
      await file.close();
    }
  } else {
    text = await run('journalctl', ['-u', 'docker', '--no-pager', '-o', 'cat', '--since', `@${Math.floor(mark.since.getTime() / 1000)}`]);
  }
  return text.split('\n').filter((line) => pluginIds.some((id) => line.includes(`plugin=${id}`)));
}
