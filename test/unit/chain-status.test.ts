import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import type { Invocation } from '../../src/cli/command';
import type { HostEngine } from '../../src/engine/host-engine';
import { loadCliSettings } from '../../src/settings/settings';
import { chainRecordFields } from '../../src/runs/backup/plan-archive-kind';
import { AdminService, type AdminDeps, type ArchiveRow } from '../../src/runs/admin-service';
import { StatusView, type StatusViewDeps } from '../../src/runs/status-view';
import type { RunRecord } from '../../src/vocabulary/run-record';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import type { Volume } from '../../src/volumes/volume-registry';
import { makeTempDir } from '../helpers/temp-dir';
import { chainOf, legacyArchive } from './chain-fixtures';

const START = new Date('2026-03-01T03:00:00Z');

const RUN: RunRecord = {
  trigger: 'schedule',
  startedAt: '2026-03-03T03:00:00.000Z',
  finishedAt: '2026-03-03T03:00:01.000Z',
  result: 'success',
  archive: 'db-20260303T030000Z.tar.gz',
  bytes: 40,
  durationMs: 1000,
  quiesced: true,
  stopped: [],
};

function statusOf(lastRun: RunRecord) {
  const deps = {
    states: { of: () => ({ lastRun }) },
    scheduler: { nextRun: () => undefined },
    gate: { busyWith: () => undefined },
  } as unknown as StatusViewDeps;
  const volume: Volume = {
    record: { name: 'db', createdAt: START.toISOString(), options: {}, mountIds: [] },
    options: parseVolumeOptions({}, { schedule: 'none', retention: '', encryption: 'none' }),
  };
  return new StatusView(deps).of(volume).lastRun;
}

describe('chains in the status and the CLI', () => {
  it('docker volume inspect shows the kind, base and chain bytes of the last run, and nothing of them for runs from before chains', () => {
    const incremental = { ...RUN, ...chainRecordFields({ kind: 'incremental', base: 'db-20260302T030000Z.tar.gz', chain: ['a', 'b'], baseChainBytes: 300 }, 40) };
    assert.deepEqual(incremental, { ...RUN, kind: 'incremental', base: 'db-20260302T030000Z.tar.gz', chainBytes: 340 });
    const shown = statusOf(incremental);
    assert.equal(shown?.bytes, 40);
    assert.equal(shown?.kind, 'incremental');
    assert.equal(shown?.base, 'db-20260302T030000Z.tar.gz');
    assert.equal(shown?.chainBytes, 340);

    const full = statusOf({ ...RUN, ...chainRecordFields({ kind: 'full', reason: 'backup-full-every is 1' }, 40) });
    assert.deepEqual([full?.kind, full?.base, full?.chainBytes], ['full', undefined, 40]);
    assert.ok(!('base' in (full ?? {})));
    const older = statusOf(RUN);
    for (const field of ['kind', 'base', 'chainBytes']) assert.ok(!(field in (older ?? {})), field);
  });

  it('backupvol backups gives each archive its kind and base, full for manifests from before chains', async () => {
    const [incremental, full] = chainOf('db', START, 1);
    const legacy = legacyArchive('db', new Date(START.getTime() - 86_400_000));
    const listing = [incremental, full, legacy];
    const source = { name: 'local', list: async () => listing, open: async () => Readable.from([]) };
    const admin = new AdminService({ restores: { archivesOf: () => source } } as unknown as AdminDeps);
    const rows = await admin.backups('db');
    assert.deepEqual(
      rows.map(({ name, kind, base }) => ({ name, kind, base })),
      [
        { name: incremental.name, kind: 'incremental', base: full.name },
        { name: full.name, kind: 'full', base: null },
        { name: legacy.name, kind: 'full', base: null },
      ],
    );
  });

  it('prints KIND and BASE columns, and the same fields in --json', async () => {
    const rows: Partial<ArchiveRow>[] = [
      { name: 'db-20260302T030000Z.tar.gz', kind: 'incremental', base: 'db-20260301T030000Z.tar.gz', created: '2026-03-02T03:00:00.000Z', bytes: 10, fileCount: 1, downtimeMs: 0 },
      { name: 'db-20260301T030000Z.tar.gz', kind: 'full', base: null, created: '2026-03-01T03:00:00.000Z', bytes: 2048, fileCount: 3, downtimeMs: 5 },
    ];
    const printed = await withFakePlugin({ Result: rows }, async (cli) => {
      await COMMANDS.backups.run(cli(['db']));
      await COMMANDS.backups.run(cli(['db'], true));
    });
    const [table, json] = printed;
    const lines = table.split('\n');
    assert.match(lines[0], /^ARCHIVE +CREATED +SIZE +FILES +DOWNTIME +KIND +BASE$/);
    assert.match(lines[1], /^db-20260302T030000Z\.tar\.gz .* incremental +db-20260301T030000Z\.tar\.gz$/);
    assert.match(lines[2], /^db-20260301T030000Z\.tar\.gz .* full +-$/);
    assert.deepEqual(JSON.parse(json), rows);
  });

  it('backupvol backup says when the archive is an incremental, and on what', async () => {
    const record = { ...RUN, kind: 'incremental', base: 'db-20260302T030000Z.tar.gz', chainBytes: 3 * 1024 * 1024 };
    const [said] = await withFakePlugin({ Result: record }, (cli) => COMMANDS.backup.run(cli(['db'])));
    assert.match(said, /^Backed up db as db-20260303T030000Z\.tar\.gz \(40 B, incremental on db-20260302T030000Z\.tar\.gz, chain 3\.0 MiB, downtime/);
    const [fullSaid] = await withFakePlugin({ Result: { ...RUN, kind: 'full', chainBytes: 40 } }, (cli) => COMMANDS.backup.run(cli(['db'])));
    assert.match(fullSaid, /^Backed up db as db-20260303T030000Z\.tar\.gz \(40 B, downtime/);
  });
});

/** Runs `work` against a plugin socket that answers every call with `answer`; returns what it printed. */
async function withFakePlugin(answer: unknown, work: (cli: (positionals: string[], json?: boolean) => Invocation) => Promise<unknown>): Promise<string[]> {
  const socket = join(await makeTempDir('chain-cli'), 'plugin.sock');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`${JSON.stringify(answer)}\n`));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const printed: string[] = [];
  const { log } = console;
  const settings = loadCliSettings({ BACKUPVOL_SOCKET: socket });
  // The backups and backup commands never reach the engine.
  const cli = (positionals: string[], json = false): Invocation => ({ positionals, json, all: false, dryRun: false, settings, engine: {} as HostEngine });
  console.log = (text: string) => void printed.push(text);
  try {
    await work(cli);
  } finally {
    console.log = log;
    server.close();
  }
  return printed;
}
