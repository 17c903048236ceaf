import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { runBackup } from '../../src/runs/backup/run-backup';
import { createSilentLogger } from '../../src/shared/logger';
import { StopJournal } from '../../src/engine/stop-journal';
import type { RemoteStore, StoreSession } from '../../src/targets/remote-store';
import { RemoteTarget } from '../../src/targets/remote-target';
import { parseVolumeOptions } from '../../src/volumes/volume-options';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const logger = createSilentLogger();

/** A remote store that answers everything but stops taking the archive's bytes after the first chunk. */
function stallingStore(onAbort: () => void = () => undefined): RemoteStore & { aborted: boolean } {
  const files = new Map<string, string>();
  const session: StoreSession = {
    list: async (folder) => [...files.keys()].filter((path) => path.startsWith(`${folder}/`)).map((path) => path.slice(folder.length + 1)),
    readText: async (path) => files.get(path) ?? '',
    writeText: async (path, text) => void files.set(path, text),
    remove: async (path) => void files.delete(path),
    rename: async () => undefined,
    ensureFolder: async () => undefined,
  };
  const store = {
    name: 'webdav',
    atomicUploads: false,
    aborted: false,
    session: <T>(fn: (s: StoreSession) => Promise<T>) => fn(session),
    upload: async () => {
      let taken = 0;
      const stream = new Writable({
        highWaterMark: 1024,
        write: (_chunk, _encoding, callback) => {
          taken += 1;
          if (taken === 1) callback(); // then silence, as from a server that stopped reading
        },
      });
      return {
        stream,
        done: () => new Promise<void>(() => undefined),
        abort: async () => {
          store.aborted = true;
          onAbort();
          stream.destroy();
        },
      };
    },
    openRead: async () => {
      throw new Error('not here');
    },
  };
  return store;
}

describe('TRANSFER_STALL_TIMEOUT', () => {
  it('in direct mode, a target that stops taking the archive fails the run in time and the containers run again', async () => {
    const dir = await makeTempDir('stall');
    const data = join(dir, 'data');
    await mkdir(data);
    // Incompressible, larger than any buffer between the archive and the target.
    await writeFile(join(data, 'blob'), Buffer.from(Array.from({ length: 4 * 1024 * 1024 }, () => Math.floor(Math.random() * 256))));
    const docker = new FakeDocker([container('app', { volumes: ['v'] })]);
    const store = stallingStore(() => docker.calls.push('abort upload'));
    const target = new RemoteTarget(store, (text) => text, 300);
    const started = Date.now();
    const record = await runBackup(
      {
        docker,
        journal: new StopJournal(dir),
        targets: { get: () => target, redact: (text) => text },
        stopTimeoutSeconds: 5,
        serviceStopTimeoutSeconds: 5,
        logger,
      },
      {
        volume: 'v',
        options: parseVolumeOptions({ 'backup-snapshot': 'direct', 'backup-target': 'webdav' }, { schedule: 'none', retention: '', encryption: 'none' }),
        rawOptions: {},
        dataPath: data,
        stagingDir: join(dir, 'staging'),
        trigger: 'manual',
      },
    );
    assert.equal(record.result, 'failed');
    assert.match(record.error ?? '', /^target webdav: no progress for 0.3 s while uploading v\/\.partial-v-.* \(TRANSFER_STALL_TIMEOUT\)$/);
    // Started before the hung target's cleanup, which may itself take a whole stall timeout.
    assert.deepEqual(docker.calls, ['stop app', 'start app', 'abort upload']);
    assert.ok(docker.containers[0].running, 'the app runs again');
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  it('fails an operation whose server gives no answer, naming the target and what it was doing', async () => {
    const silent: RemoteStore = { ...stallingStore(), session: () => new Promise(() => undefined) };
    const target = new RemoteTarget(silent, (text) => text, 100);
    await assert.rejects(target.list('v'), /^Error: target webdav: no answer for 0.1 s while listing the archives of v \(TRANSFER_STALL_TIMEOUT\)$/);
  });
});


describe('TRANSFER_STALL_TIMEOUT when reading', () => {
  /** A store whose archive arrives in `chunks` pieces, then (when `stallAfter` is set) nothing more. */
  function readingStore(chunks: number, stallAfter?: number): RemoteStore {
    return {
      ...stallingStore(),
      openRead: async () => {
        let sent = 0;
        return new Readable({
          read() {
            if (stallAfter !== undefined && sent >= stallAfter) return; // silence: no push, no end
            if (sent === chunks) return void this.push(null);
            sent += 1;
            this.push(Buffer.alloc(64 * 1024, sent));
          },
        });
      },
    };
  }

  it('fails a read from a server that stops sending, naming the target and the archive', async () => {
    const target = new RemoteTarget(readingStore(10, 2), (text) => text, 100);
    const reading = (async () => {
      for await (const _chunk of await target.open('v', 'a.tar.gz')) void _chunk;
    })();
    await assert.rejects(reading, /^Error: target webdav: no progress for 0.1 s while reading v\/a.tar.gz \(TRANSFER_STALL_TIMEOUT\)$/);
  });

  it('lets a slow reader take its time', async () => {
    const target = new RemoteTarget(readingStore(6), (text) => text, 60);
    let bytes = 0;
    for await (const chunk of await target.open('v', 'a.tar.gz')) {
      bytes += (chunk as Buffer).length;
      await new Promise((resolve) => setTimeout(resolve, 100)); // longer than the stall timeout
    }
    assert.equal(bytes, 6 * 64 * 1024);
  });
});
