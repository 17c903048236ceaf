import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { allArchiveFiles, completeArchives, HOST_ARCHIVE_DIR } from '../helpers/archives';
import { eventually } from '../helpers/eventually';
import { backupStatus } from '../helpers/backup-status';
import { docker, run } from '../helpers/docker-cli';
import { backupvolCli, backupvolJson } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, killPlugin, PLUGIN, waitForPluginRestart } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { assertSameTree } from '../helpers/tree-compare';
import { useUniquePrefix } from '../helpers/unique-prefix';

/** Archives keep mtimes to the second (ustar), as GNU tar does by default. */
const SECOND_NS = 1_000_000_000n;

const FILL = [
  'mkdir -p /data/old/inner /data/docs /data/docs2',
  'echo gone > /data/old/inner/gone.txt',
  'echo x > /data/docs2/x.txt',
  'echo first > /data/log.txt',
  'echo notes > /data/notes.txt',
  'echo run > /data/run.sh && chmod 644 /data/run.sh',
  'echo a file for now > /data/thing',
  'seq 1 20000 > /data/numbers',
  'ln -s old /data/current',
].join(' && ');

/** The changes between the points of the chain, in the container, as a user's application would make them. */
const CHANGES: Array<[string, string]> = [
  ['append, delete a folder, rename', 'echo more >> /data/log.txt && rm -rf /data/old && mv /data/notes.txt /data/docs/notes.md'],
  [
    'chmod, retarget a symlink, new nested folders, a hard link',
    'chmod 700 /data/run.sh && rm /data/current && ln -s docs /data/current && mkdir -p /data/a/b/c && echo deep > /data/a/b/c/deep.txt && ln /data/log.txt /data/a/log-link.txt',
  ],
  ['file to folder and folder to file', 'rm /data/thing && mkdir /data/thing && echo now a folder > /data/thing/inside.txt && rm -rf /data/docs2 && echo now a file > /data/docs2'],
  ['no change', 'true'],
];

interface RunResult {
  result: string;
  archive?: string;
  error?: string;
}

interface ArchiveRow {
  name: string;
  kind: string;
  base: string | null;
}

/** What `lastRun` in the status says of the chain. */
interface LastRunLink {
  kind?: string;
  base?: string;
  chainBytes?: number;
}

interface ChainManifest {
  kind?: string;
  base?: string;
  chain?: string[];
  bytes: number;
}

function dataDir(volume: string): string {
  return join(hostVolumeDir(volume), 'data');
}

async function manifestOf(volume: string, archive: string): Promise<ChainManifest> {
  return JSON.parse(await readFile(join(HOST_ARCHIVE_DIR, volume, `${archive}.json`), 'utf8')) as ChainManifest;
}

/** A backup through the CLI; archive names carry whole seconds, so two runs never share one. */
async function backUp(volume: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const record = await backupvolJson<RunResult>(['backup', volume]);
  assert.equal(record.result, 'success', record.error);
  return record.archive as string;
}

/** The point restored with GNU tar alone: each link of the chain, in order, from an empty folder. */
async function restoreWithGnuTar(volume: string, chain: readonly string[]): Promise<string> {
  const into = await mkdtemp(join(tmpdir(), 'bvt-chain-'));
  for (const link of chain) await run('tar', ['--extract', '--incremental', '-z', '-f', join(HOST_ARCHIVE_DIR, volume, link), '-C', into]);
  return into;
}

describe('incremental chains (backup-full-every)', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  const folders: string[] = [];

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
  });

  for (const mode of ['sync', 'copy', 'direct']) {
    it(`one full archive and four incrementals (snapshot ${mode}): every point restores with GNU tar alone and with backupvol restore`, async () => {
      const volume = `${prefix}chain-${mode}`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-full-every=5', '-o', `backup-snapshot=${mode}`, volume]);
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
      const points: Array<{ archive: string; expected: string }> = [];
      const remember = async (archive: string) => {
        const expected = await mkdtemp(join(tmpdir(), 'bvt-expected-'));
        folders.push(expected);
        await run('cp', ['-a', `${dataDir(volume)}/.`, expected]);
        points.push({ archive, expected });
      };
      await remember(await backUp(volume));
      for (const [, change] of CHANGES) {
        await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', change]);
        await remember(await backUp(volume));
      }
      const names = points.map((point) => point.archive);
      const manifests = await Promise.all(names.map((name) => manifestOf(volume, name)));
      assert.deepEqual(manifests.map((manifest) => manifest.kind), ['full', 'incremental', 'incremental', 'incremental', 'incremental']);
      for (const [position, manifest] of manifests.entries()) {
        assert.deepEqual(manifest.chain, names.slice(0, position + 1), `the chain of point ${position}`);
        assert.equal(manifest.base, position === 0 ? undefined : names[position - 1]);
      }
      assert.ok(manifests[4].bytes < manifests[0].bytes / 10, `a run with no change is tiny (${manifests[4].bytes} of ${manifests[0].bytes} bytes)`);
      // docker volume inspect: the last run's link of the chain, and the bytes of the whole chain.
      const chained = (await backupStatus(volume)) as unknown as { lastRun: LastRunLink };
      assert.deepEqual(
        { kind: chained.lastRun.kind, base: chained.lastRun.base, chainBytes: chained.lastRun.chainBytes },
        { kind: 'incremental', base: names[3], chainBytes: manifests.reduce((sum, manifest) => sum + manifest.bytes, 0) },
      );
      const rows = await backupvolJson<ArchiveRow[]>(['backups', volume, '--json']);
      assert.deepEqual(
        rows.map((row) => [row.name, row.kind, row.base]),
        [...names].reverse().map((name, index, reversed) => [name, index === reversed.length - 1 ? 'full' : 'incremental', reversed[index + 1] ?? null]),
      );

      for (const [position, { expected }] of points.entries()) {
        const what = position === 0 ? 'the full archive' : CHANGES[position - 1][0];
        const byTar = await restoreWithGnuTar(volume, names.slice(0, position + 1));
        folders.push(byTar);
        await assertSameTree(expected, byTar, { mtimeToleranceNs: SECOND_NS });
        const outcome = await backupvolCli(['restore', volume, '--from', names[position], '--json']);
        assert.equal(outcome.code, 0, `${what}: ${outcome.stderr}`);
        await assertSameTree(expected, dataDir(volume), { mtimeToleranceNs: SECOND_NS });
      }

      // A new volume from a point of the chain: --into and restore-from go through the same links.
      const into = `${volume}-into`;
      const intoOutcome = await backupvolCli(['restore', volume, '--from', names[3], '--into', into]);
      assert.equal(intoOutcome.code, 0, intoOutcome.stderr);
      await assertSameTree(points[3].expected, dataDir(into), { mtimeToleranceNs: SECOND_NS });
      const fresh = `${volume}-fresh`;
      await docker(['volume', 'create', '-d', PLUGIN, '-o', `restore-from=${volume}@latest`, fresh]);
      await assertSameTree(points[4].expected, dataDir(fresh), { mtimeToleranceNs: SECOND_NS });

      // The fifth link closes the chain: the next run starts a new full archive.
      const next = await backUp(volume);
      assert.equal((await manifestOf(volume, next)).kind, 'full');
      const status = (await backupStatus(volume)) as unknown as { lastRun: LastRunLink };
      assert.equal(status.lastRun.kind, 'full');
      assert.equal(status.lastRun.chainBytes, (await manifestOf(volume, next)).bytes, 'a full archive is a chain of itself');
    });
  }

  it('a corrupt middle link fails verify and restore of the later points, naming it; the next run is full', async () => {
    const volume = `${prefix}corrupt`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-full-every=10', volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    const full = await backUp(volume);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGES[0][1]]);
    const middle = await backUp(volume);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGES[1][1]]);
    const last = await backUp(volume);
    assert.equal((await manifestOf(volume, last)).base, middle);

    const path = join(HOST_ARCHIVE_DIR, volume, middle);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(path, bytes);

    const verify = await backupvolCli(['verify', volume, last, '--json']);
    assert.notEqual(verify.code, 0);
    assert.match(verify.stdout + verify.stderr, new RegExp(middle.replace(/\./g, '\\.')));
    const restore = await backupvolCli(['restore', volume, '--from', last]);
    assert.notEqual(restore.code, 0);
    assert.match(restore.stdout + restore.stderr, new RegExp(`cannot restore ${middle.replace(/\./g, '\\.')}`));
    assert.equal((await backupvolCli(['restore', volume, '--from', full])).code, 0, 'an earlier point still restores');

    // The failed verify ends the chain: the next run does not build on a link known to be bad.
    const fresh = await backUp(volume);
    assert.equal((await manifestOf(volume, fresh)).kind, 'full');
    // A link that is gone breaks the points after it, naming it.
    await rm(path);
    await rm(`${path}.json`);
    const missing = await backupvolCli(['restore', volume, '--from', last]);
    assert.match(missing.stdout + missing.stderr, new RegExp(`needs ${middle.replace(/\./g, '\\.')}, which is missing`));
    assert.ok((await completeArchives(volume)).includes(fresh));
  });

  it('a plugin killed in the middle of an incremental run: the next run bases on the last complete archive', async () => {
    const volume = `${prefix}killed`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-full-every=10', volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    const full = await backUp(volume);
    // Enough new content that the packing lasts long enough to be caught.
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', `${CHANGES[0][1]} && dd if=/dev/urandom of=/data/big bs=1M count=300 2>/dev/null`]);
    let ended = false;
    const interrupted = backupvolCli(['backup', volume]).finally(() => (ended = true));
    await eventually('the incremental archive is being written', async () => ended || (await allArchiveFiles(volume)).some((name) => name.startsWith('.partial-')), 120_000, 20);
    assert.equal(ended, false, 'the run was caught while it packed');
    await waitForPluginRestart(await killPlugin());
    assert.notEqual((await interrupted).code, 0);
    assert.deepEqual(await completeArchives(volume), [full], 'the killed run left nothing that looks complete');

    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', CHANGES[1][1]]);
    const next = await backUp(volume);
    const manifest = await manifestOf(volume, next);
    assert.equal(manifest.kind, 'incremental');
    assert.equal(manifest.base, full);
    const byTar = await restoreWithGnuTar(volume, [full, next]);
    folders.push(byTar);
    await assertSameTree(dataDir(volume), byTar, { mtimeToleranceNs: SECOND_NS });
    const restored = await backupvolCli(['restore', volume, '--into', `${volume}-restored`]);
    assert.equal(restored.code, 0, restored.stderr);
    await assertSameTree(dataDir(volume), dataDir(`${volume}-restored`), { mtimeToleranceNs: SECOND_NS });
  });

  it('retention keeps whole chains: a point is pruned only with every point that needs it', async () => {
    const volume = `${prefix}retention`;
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-full-every=3', '-o', 'backup-retention=4', volume]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', FILL]);
    const names: string[] = [];
    for (let run = 0; run < 7; run++) {
      await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', `echo ${run} >> /data/log.txt`]);
      names.push(await backUp(volume));
      const kept = await completeArchives(volume);
      for (const archive of kept) {
        const chain = (await manifestOf(volume, archive)).chain ?? [];
        assert.deepEqual(chain.filter((link) => !kept.includes(link)), [], `after run ${run}, ${archive} has every link it needs`);
      }
    }
    // Chains: [0 1 2] [3 4 5] [6]. The last four points are 3..6; 3 needs nothing older, so [0 1 2] goes whole.
    assert.deepEqual(await completeArchives(volume), names.slice(3));
  });

  it('cleans up', async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });
});
