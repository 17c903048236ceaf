import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PhaseTimer } from '../../src/shared/phase-timer';
import { HEADROOM_BYTES, type SpaceProbes } from '../../src/snapshot/check-room';
import { fileSystemSpace } from '../../src/snapshot/file-system-space';
import { canReflink } from '../../src/snapshot/reflink-probe';
import { removeStagingLeftovers } from '../../src/snapshot/staging-layout';
import { takeSnapshot } from '../../src/snapshot/take-snapshot';
import type { RunPhase } from '../../src/vocabulary/run-phases';
import type { SnapshotMode } from '../../src/vocabulary/volume-options';
import { makeTempDir } from '../helpers/temp-dir';
import { assertSameTree } from '../helpers/tree-compare';

const VOLUME_BYTES = 2 * 1024 * 1024;
const isRoot = process.getuid?.() === 0;

/** Probes that show a staging filesystem with `availableBytes` free and no reflink. */
function probes(availableBytes: number): SpaceProbes {
  return {
    canReflink: async () => false,
    fileSystemSpace: async () => ({
      availableBytes,
      usedBytes: 500 * 1024 ** 3, // the volume's filesystem is big: the answer needs a walk
      availableInodes: null,
      usedInodes: null,
    }),
  };
}
const PLENTY = probes(1024 ** 4);

/** quiesce/resume hooks that write down what happens, in order. */
function recordingHooks(options: { onQuiesce?: () => Promise<void>; resumeFails?: boolean } = {}) {
  const events: string[] = [];
  return {
    events,
    quiesce: async () => {
      events.push('quiesce');
      await options.onQuiesce?.();
      return async () => {
        events.push('resume');
        if (options.resumeFails) throw new Error('container db would not start');
      };
    },
  };
}

async function volume(label: string) {
  const dir = await makeTempDir(label);
  const source = join(dir, 'volumes/data');
  const stagingDir = join(dir, 'staging/data');
  await mkdir(join(source, 'db'), { recursive: true });
  await writeFile(join(source, 'db/pages'), Buffer.alloc(VOLUME_BYTES, 1));
  await writeFile(join(source, 'notes.txt'), 'hello');
  // Settled data: files written in the last seconds would be copied again while stopped (see sync-mirror).
  for (const file of ['db/pages', 'notes.txt']) await utimes(join(source, file), 1_700_000_000, 1_700_000_000);
  return { dir, source, stagingDir };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('takeSnapshot', () => {
  for (const mode of ['sync', 'copy', 'direct'] as SnapshotMode[]) {
    it(`${mode}: hands over a tree equal to the volume, with the containers stopped once`, async () => {
      const { source, stagingDir } = await volume(`snap-${mode}`);
      const hooks = recordingHooks();
      const snapshot = await takeSnapshot({ mode, source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY });
      assert.equal(snapshot.modeUsed, mode);
      assert.equal(snapshot.fellBackReason, undefined);
      await assertSameTree(source, snapshot.archiveRoot);
      // direct keeps the containers stopped until the archive is written and release() is called.
      assert.deepEqual(hooks.events, mode === 'direct' ? ['quiesce'] : ['quiesce', 'resume']);
      await snapshot.release();
      await snapshot.release();
      assert.deepEqual(hooks.events, ['quiesce', 'resume']);
      assert.ok(snapshot.downtimeMs >= 0);
      assert.equal(await exists(join(stagingDir, 'copy')), false);
      assert.equal(await exists(join(stagingDir, 'mirror')), mode === 'sync');
    });
  }

  it('sync: fills the mirror before stopping, then copies only what changed since', async () => {
    const { source, stagingDir } = await volume('snap-sync-order');
    let mirroredBeforeStop = false;
    const hooks = recordingHooks({
      onQuiesce: async () => {
        mirroredBeforeStop = await exists(join(stagingDir, 'mirror/db/pages'));
        await writeFile(join(source, 'notes.txt'), 'last write before the stop');
      },
    });
    const snapshot = await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY });
    assert.equal(mirroredBeforeStop, true);
    assert.equal(snapshot.downtimeCopy?.filesCopied, 1);
    assert.equal(snapshot.downtimeCopy?.bytesCopied, 'last write before the stop'.length);
    await assertSameTree(source, snapshot.archiveRoot);

    // The next run finds the mirror kept and copies nothing it already holds.
    const next = await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: recordingHooks().quiesce, probes: PLENTY });
    assert.equal(next.downtimeCopy?.bytesCopied, 0);
  });

  it('sync with nothing to stop: one pass with true mtimes, no quiesce, no downtime', async () => {
    const { source, stagingDir } = await volume('snap-sync-nothing-to-stop');
    // Written just now: a live pass would stamp its copy as racy (an mtime of its own) for the next pass.
    await writeFile(join(source, 'notes.txt'), 'fresh');
    const hooks = recordingHooks();
    const timer = new PhaseTimer<RunPhase>();
    const snapshot = await takeSnapshot({
      mode: 'sync',
      source,
      stagingDir,
      quiesce: hooks.quiesce,
      probes: PLENTY,
      nothingToStop: true,
      timer,
    });
    assert.deepEqual(hooks.events, []);
    assert.deepEqual(Object.keys(timer.timings()), ['room-check', 'live-pass']);
    assert.equal(snapshot.downtimeMs, 0);
    await assertSameTree(source, snapshot.archiveRoot);
  });

  it('leaves excluded paths out of the staging tree', async () => {
    const { source, stagingDir } = await volume('snap-exclude');
    await writeFile(join(source, 'db/debug.log'), 'noise');
    const exclude = ['*.log'];
    for (const mode of ['sync', 'copy'] as SnapshotMode[]) {
      const snapshot = await takeSnapshot({ mode, source, stagingDir, exclude, quiesce: recordingHooks().quiesce, probes: PLENTY });
      await assertSameTree(source, snapshot.archiveRoot, { skip: (path) => path === 'db/debug.log' });
      await snapshot.release();
    }
  });

  for (const mode of ['sync', 'copy'] as SnapshotMode[]) {
    it(`${mode}: starts the containers again when the copy fails, and reports the copy's error`, async () => {
      const { source, stagingDir } = await volume(`snap-${mode}-fail`);
      const hooks = recordingHooks({ onQuiesce: () => rm(source, { recursive: true }) });
      await assert.rejects(
        takeSnapshot({ mode, source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY }),
        /mirroring .* failed: ENOENT/,
      );
      assert.deepEqual(hooks.events, ['quiesce', 'resume']);
      assert.equal(await exists(join(stagingDir, 'copy')), false);
    });
  }

  it('when both the copy and the restart fail, the error tells of both', async () => {
    const { source, stagingDir } = await volume('snap-double-fail');
    const hooks = recordingHooks({ onQuiesce: () => rm(source, { recursive: true }), resumeFails: true });
    await assert.rejects(
      takeSnapshot({ mode: 'copy', source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY }),
      (error: Error) =>
        /^mirroring .* failed: ENOENT/.test(error.message) && /container db would not start/.test(error.message),
    );
    assert.deepEqual(hooks.events, ['quiesce', 'resume']);
  });

  it('a failed restart after a good copy fails the snapshot and removes the copy', async () => {
    const { source, stagingDir } = await volume('snap-resume-fail');
    const hooks = recordingHooks({ resumeFails: true });
    await assert.rejects(
      takeSnapshot({ mode: 'copy', source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY }),
      /container db would not start/,
    );
    assert.equal(await exists(join(stagingDir, 'copy')), false);
  });

  it('a failed stop stops the snapshot before anything is copied', async () => {
    const { source, stagingDir } = await volume('snap-quiesce-fail');
    const quiesce = async (): Promise<() => Promise<void>> => {
      throw new Error('container db refused to stop');
    };
    await assert.rejects(takeSnapshot({ mode: 'copy', source, stagingDir, quiesce, probes: PLENTY }), /refused to stop/);
    assert.equal(await exists(join(stagingDir, 'copy')), false);
  });

  for (const mode of ['sync', 'copy'] as SnapshotMode[]) {
    it(`${mode}: falls back to direct, and says why, when the staging filesystem lacks room`, async () => {
      const { source, stagingDir } = await volume(`snap-${mode}-full`);
      const hooks = recordingHooks();
      const snapshot = await takeSnapshot({ mode, source, stagingDir, quiesce: hooks.quiesce, probes: probes(HEADROOM_BYTES) });
      assert.equal(snapshot.modeUsed, 'direct');
      assert.match(snapshot.fellBackReason ?? '', /not enough room in .* for a copy of the volume: it needs 258\.0 MiB.*took a direct snapshot instead/);
      assert.equal(snapshot.archiveRoot, source);
      assert.deepEqual(hooks.events, ['quiesce']);
      await snapshot.release();
      assert.deepEqual(hooks.events, ['quiesce', 'resume']);
      assert.deepEqual(await readdir(stagingDir), []);
    });
  }

  // The room check can pass and the copy still run out of room (the volume grew, another writer filled
  // the staging filesystem): a real ENOSPC on a 1 MiB tmpfs, with probes that say there is plenty.
  for (const mode of ['sync', 'copy'] as SnapshotMode[]) {
    it(`${mode}: runs out of room during the pass, removes what it copied and falls back to direct`, { skip: !isRoot && 'needs root (mount)' }, async () => {
      const { source, stagingDir } = await volume(`snap-${mode}-enospc`);
      await mkdir(stagingDir, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', stagingDir]);
      try {
        const hooks = recordingHooks();
        const snapshot = await takeSnapshot({ mode, source, stagingDir, quiesce: hooks.quiesce, probes: PLENTY });
        assert.equal(snapshot.modeUsed, 'direct');
        assert.match(snapshot.fellBackReason ?? '', new RegExp(`ran out of room during the ${mode} pass .*ENOSPC.*took a direct snapshot instead`));
        assert.equal(snapshot.archiveRoot, source);
        assert.deepEqual(await readdir(stagingDir), [], 'no partial mirror or copy is left to fill the disk');
        await snapshot.release();
        assert.equal(hooks.events.at(-1), 'resume');
        assert.equal(hooks.events.filter((event) => event === 'quiesce').length, hooks.events.filter((event) => event === 'resume').length);
      } finally {
        execFileSync('umount', [stagingDir]);
      }
    });
  }

  it('sync counts what the mirror already holds as room', async () => {
    const { source, stagingDir } = await volume('snap-sync-held');
    await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: recordingHooks().quiesce, probes: PLENTY });
    // Just the headroom left: enough for a mirror that has everything, not for a fresh copy.
    const tight = probes(HEADROOM_BYTES + 1024);
    const sync = await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: recordingHooks().quiesce, probes: tight });
    assert.equal(sync.modeUsed, 'sync');
    const copy = await takeSnapshot({ mode: 'copy', source, stagingDir, quiesce: recordingHooks().quiesce, probes: tight });
    assert.equal(copy.modeUsed, 'direct');
    await copy.release();
  });

  it('needs no free space where files can be cloned', async () => {
    const { source, stagingDir } = await volume('snap-reflink');
    const cloning: SpaceProbes = { ...probes(0), canReflink: async () => true };
    const snapshot = await takeSnapshot({ mode: 'copy', source, stagingDir, quiesce: recordingHooks().quiesce, probes: cloning });
    assert.equal(snapshot.modeUsed, 'copy');
    await snapshot.release();
  });

  it('falls back to direct when the room cannot be checked', async () => {
    const { source, stagingDir } = await volume('snap-probe-fail');
    const broken: SpaceProbes = { ...PLENTY, fileSystemSpace: async () => Promise.reject(new Error('statfs: EIO')) };
    const snapshot = await takeSnapshot({ mode: 'copy', source, stagingDir, quiesce: recordingHooks().quiesce, probes: broken });
    assert.equal(snapshot.modeUsed, 'direct');
    assert.match(snapshot.fellBackReason ?? '', /could not check the room for a copy \(statfs: EIO\)/);
    await snapshot.release();
  });

  it('clears leftovers from the staging folder, and a mirror that is no longer used', async () => {
    const { source, stagingDir } = await volume('snap-leftovers');
    await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: recordingHooks().quiesce, probes: PLENTY });
    await mkdir(join(stagingDir, 'copy/half'), { recursive: true });
    await writeFile(join(stagingDir, 'stray'), '');
    const sync = await takeSnapshot({ mode: 'sync', source, stagingDir, quiesce: recordingHooks().quiesce, probes: PLENTY });
    assert.deepEqual(await readdir(stagingDir), ['mirror']);
    assert.equal(sync.downtimeCopy?.filesCopied, 0);
    const direct = await takeSnapshot({ mode: 'direct', source, stagingDir, quiesce: recordingHooks().quiesce });
    await direct.release();
    assert.deepEqual(await readdir(stagingDir), []);
  });

  it('at start, clears every volume\'s leftovers and keeps the mirrors', async () => {
    const root = join(await makeTempDir('staging-start'), 'staging');
    await mkdir(join(root, 'a/copy/deep'), { recursive: true });
    await mkdir(join(root, 'a/mirror'), { recursive: true });
    await writeFile(join(root, 'a/mirror/kept'), 'x');
    await mkdir(join(root, 'b/copy'), { recursive: true });
    await writeFile(join(root, 'stray-file'), 'not a volume folder');
    const errors: string[] = [];
    await removeStagingLeftovers(root, (message) => errors.push(message));
    assert.deepEqual(await readdir(join(root, 'a')), ['mirror']);
    assert.deepEqual(await readdir(join(root, 'a/mirror')), ['kept']);
    assert.deepEqual(await readdir(join(root, 'b')), []);
    assert.deepEqual(errors, []);
    const missing: string[] = [];
    await removeStagingLeftovers(join(root, 'missing'), (message) => missing.push(message));
    assert.deepEqual(missing, [], 'no staging folder yet is nothing to clear');
  });

  it('direct: downtime runs until release() has started the containers', async () => {
    const { source, stagingDir } = await volume('snap-direct-downtime');
    const snapshot = await takeSnapshot({ mode: 'direct', source, stagingDir, quiesce: recordingHooks().quiesce });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await snapshot.release();
    const downtime = snapshot.downtimeMs;
    assert.ok(downtime >= 25, `downtime ${downtime} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(snapshot.downtimeMs, downtime);
  });

  it('the system probes read this machine', async () => {
    const { source, stagingDir } = await volume('snap-probes');
    await mkdir(stagingDir, { recursive: true });
    const space = await fileSystemSpace(stagingDir);
    assert.ok(space.availableBytes > 0 && space.usedBytes > 0);
    assert.equal(typeof (await canReflink({ source, stagingDir })), 'boolean');
    assert.deepEqual(await readdir(stagingDir), []); // the probe cleans up after itself
  });
});
