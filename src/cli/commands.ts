import type { ArchiveRow, VolumeRow } from '../runs/admin-service';
import type { DrillRecord, RestoreRecord, RunRecord, VerifyRecord } from '../vocabulary/run-record';
import { describePhases } from '../vocabulary/run-phases';
import { describeContainerStop, type ContainerStop } from '../vocabulary/container-stop';
import { parseOwnRestoreSource } from '../vocabulary/restore-source';
import { assertValidVolumeName } from '../vocabulary/volume-name';
import { formatBytes, formatDuration, formatTable, formatTime } from '../shared/format';
import { callPlugin } from './plugin-client';
import { ProgressLine } from './progress-line';
import { recoverPlugin } from './recover';
import { SWARM_COMMAND } from './swarm-command';
import { EXIT, print, UsageError, type Command, type Invocation } from './command';

/** Runs a plugin call behind a progress line. */
async function withProgress<T>(label: string, call: (onProgress: ProgressLine['update']) => Promise<T>): Promise<T> {
  const line = new ProgressLine(label);
  try {
    return await call(line.update);
  } finally {
    line.done();
  }
}

function volumeArgument(invocation: Invocation): string {
  const volume = invocation.positionals[0];
  try {
    assertValidVolumeName(volume);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return volume;
}

export const COMMANDS: Record<string, Command> = {
  ls: {
    usage: 'backupvol ls [--json]',
    summary: 'list backupvol volumes with their schedule, last backup, next run and archive count',
    flags: [],
    positionals: { min: 0, max: 0 },
    async run({ json, settings }) {
      const rows = (await callPlugin(settings, 'List', {})) as VolumeRow[];
      print(json, rows, () =>
        formatTable(
          ['VOLUME', 'SCHEDULE', 'LAST BACKUP', 'RESULT', 'NEXT RUN', 'ARCHIVES'],
          rows.map((row) => [
            row.name,
            row.schedule,
            formatTime(row.lastRun?.time),
            row.progress ?? (row.busy ? `${row.busy} running` : (row.lastRun?.result ?? '-')),
            formatTime(row.nextRun),
            String(row.archives),
          ]),
        ),
      );
      return EXIT.ok;
    },
  },

  backup: {
    usage: 'backupvol backup VOLUME [--json]',
    summary: 'back the volume up now, the same way a scheduled run does, and wait for it',
    flags: [],
    positionals: { min: 1, max: 1 },
    async run(invocation) {
      const volume = volumeArgument(invocation);
      const record = (await withProgress(`Backing up ${volume}`, (onProgress) => callPlugin(invocation.settings, 'Backup', { Volume: volume }, onProgress))) as RunRecord;
      print(invocation.json, record, () =>
        record.result === 'success'
          ? `Backed up ${volume} as ${record.archive} (${formatBytes(record.bytes ?? 0)}${chainNote(record)}, downtime ${formatDuration(record.downtimeMs)})` +
            (record.phases ? `\ntook ${formatDuration(record.durationMs)}: ${describePhases(record.phases)}` : '') +
            stopLines(record)
          : `Backup of ${volume} failed: ${record.error}`,
      );
      return record.result === 'success' ? EXIT.ok : EXIT.failed;
    },
  },

  backups: {
    usage: 'backupvol backups VOLUME [--json]',
    summary: "list the volume's complete archives, newest first",
    flags: [],
    positionals: { min: 1, max: 1 },
    async run(invocation) {
      const volume = volumeArgument(invocation);
      const rows = (await callPlugin(invocation.settings, 'Backups', { Volume: volume })) as ArchiveRow[];
      print(invocation.json, rows, () =>
        formatTable(
          ['ARCHIVE', 'CREATED', 'SIZE', 'FILES', 'DOWNTIME', 'KIND', 'BASE'],
          rows.map((row) => [row.name, formatTime(row.created), formatBytes(row.bytes), String(row.fileCount), formatDuration(row.downtimeMs), row.kind, row.base ?? '-']),
        ),
      );
      return EXIT.ok;
    },
  },

  drill: {
    usage: 'backupvol drill VOLUME [--from ARCHIVE|latest] [--json]',
    summary: 'restore a point into a scratch folder, check it against its manifests, time it, delete it; the volume is not touched',
    flags: ['from'],
    positionals: { min: 1, max: 1 },
    async run(invocation) {
      const volume = volumeArgument(invocation);
      const from = fromArgument(invocation, volume);
      const record = (await withProgress(`Drilling ${volume}`, (onProgress) => callPlugin(invocation.settings, 'Drill', { Volume: volume, From: from }, onProgress))) as DrillRecord;
      print(invocation.json, { volume, ...record }, () =>
        record.result === 'ok'
          ? `Drill of ${volume} ok: ${record.archive} (${record.chain?.length ?? 1} archive(s) from ${record.target ?? 'local'}) restored and checked in ` +
            `${record.seconds} s, ${record.fileCount} files, ${formatBytes(record.bytes ?? 0)}, ${record.mbPerSecond} MB/s`
          : `Drill of ${volume} FAILED after ${record.seconds} s: ${record.error}`,
      );
      return record.result === 'ok' ? EXIT.ok : EXIT.failed;
    },
  },

  restore: {
    usage: 'backupvol restore VOLUME [--from ARCHIVE|latest] [--into NEW_VOLUME] [--json]',
    summary: 'restore an archive over the volume (its containers stop for the swap only), or into a new volume',
    flags: ['from', 'into'],
    positionals: { min: 1, max: 1 },
    async run(invocation) {
      const volume = volumeArgument(invocation);
      const from = fromArgument(invocation, volume);
      if (invocation.into === undefined) {
        const record = (await withProgress(`Restoring ${volume}`, (onProgress) => callPlugin(invocation.settings, 'Restore', { Volume: volume, From: from }, onProgress))) as RestoreRecord;
        return reportRestore(invocation.json, volume, record);
      }
      const into = invocation.into;
      try {
        assertValidVolumeName(into);
      } catch (error) {
        throw new UsageError(`--into: ${(error as Error).message}`);
      }
      const { engine } = invocation;
      if (await engine.volumeExists(into)) throw new UsageError(`volume ${into} exists already; --into needs the name of a new volume`);
      // Made through the engine, so Docker knows it like any other backupvol volume.
      await engine.createVolume(into, invocation.settings.plugin);
      let record: RestoreRecord;
      try {
        record = (await withProgress(`Restoring into ${into}`, (onProgress) => callPlugin(invocation.settings, 'Restore', { Volume: volume, From: from, Into: into }, onProgress))) as RestoreRecord;
      } catch (error) {
        await engine.removeVolume(into);
        throw error;
      }
      if (record.result !== 'success') await engine.removeVolume(into);
      return reportRestore(invocation.json, into, record);
    },
  },

  recover: {
    usage: 'backupvol recover [--json]',
    summary: 'when the plugin is down: start it again and wait until it has started what an interrupted backup left stopped',
    flags: [],
    positionals: { min: 0, max: 0 },
    async run({ json, settings, engine }) {
      const { plugin } = settings;
      const outcome = await recoverPlugin(settings, engine);
      print(json, outcome, () => {
        if (outcome.wasRunning) return `The ${plugin} plugin is running: it brings back what its runs stopped by itself.`;
        const lines = [`Started the ${plugin} plugin again.`];
        for (const { volume, stillDown } of outcome.volumes) {
          lines.push(stillDown.length === 0 ? `${volume}: brought back what its interrupted run stopped` : `${volume}: still down: ${stillDown.join(', ')}`);
        }
        return lines.join('\n');
      });
      return outcome.volumes.every((entry) => entry.stillDown.length === 0) ? EXIT.ok : EXIT.failed;
    },
  },

  swarm: SWARM_COMMAND,

  verify: {
    usage: 'backupvol verify VOLUME [ARCHIVE|--all] [--json]',
    summary: "read an archive (default: the newest) end to end and check it against its manifest",
    flags: ['all'],
    positionals: { min: 1, max: 2 },
    async run(invocation) {
      const volume = volumeArgument(invocation);
      const named = invocation.positionals[1];
      if (named && invocation.all) throw new UsageError('give an ARCHIVE or --all, not both');
      const which = invocation.all ? 'all' : (named ?? 'latest');
      const records = (await withProgress(`Verifying ${volume}`, (onProgress) => callPlugin(invocation.settings, 'Verify', { Volume: volume, Archive: which }, onProgress))) as VerifyRecord[];
      print(invocation.json, records, () =>
        records.map((record) => (record.result === 'ok' ? `ok      ${record.archive} (${record.fileCount} files)` : `FAILED  ${record.error}`)).join('\n'),
      );
      return records.every((record) => record.result === 'ok') ? EXIT.ok : EXIT.failed;
    },
  },
};

/** --from, checked before the plugin is asked: latest, or the name of one of the volume's archives. */
function fromArgument(invocation: Invocation, volume: string): string {
  const from = invocation.from ?? 'latest';
  try {
    parseOwnRestoreSource(from, volume);
  } catch (error) {
    throw new UsageError(`--from: ${(error as Error).message}`);
  }
  return from;
}

/** `, incremental on BASE, chain 1.2 GiB` for an incremental run; nothing for a full one. */
function chainNote(record: RunRecord): string {
  if (record.kind !== 'incremental') return '';
  return `, incremental on ${record.base}, chain ${formatBytes(record.chainBytes ?? 0)}`;
}

/** How the stopped containers went down, and the run's warning, each on a line of its own. */
function stopLines(record: { stops?: ContainerStop[]; warning?: string }): string {
  return (record.stops?.length ? `\nstopped: ${record.stops.map(describeContainerStop).join(', ')}` : '') + (record.warning ? `\nwarning: ${record.warning}` : '');
}

function reportRestore(json: boolean, volume: string, record: RestoreRecord): number {
  print(json, { volume, ...record }, () =>
    record.result === 'success'
      ? `Restored ${volume} from ${record.archive} (${record.fileCount} files, downtime ${formatDuration(record.downtimeMs ?? 0)})` +
        stopLines(record)
      : `Restore of ${volume} failed: ${record.error}`,
  );
  return record.result === 'success' ? EXIT.ok : EXIT.failed;
}
