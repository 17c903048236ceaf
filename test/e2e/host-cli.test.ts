import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CommandError, run } from '../helpers/docker-cli';
import { REPO_ROOT, installFreshPlugin } from '../helpers/plugin';

/** bin/backupvol runs the Node inside the installed plugin's rootfs: nothing but the Docker CLI on the host. */
describe('the host CLI wrapper bin/backupvol', { timeout: 120_000 }, () => {
  before(async () => {
    await installFreshPlugin();
  });

  it('prints the version of the installed plugin', async () => {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const output = await run(join(REPO_ROOT, 'bin', 'backupvol'), ['--version']);
    assert.equal(output.trim(), `backupvol ${manifest.version}`);
  });

  it('swarm export and swarm recreate outside a swarm say that a manager is needed', async (t) => {
    if ((await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim() === 'active') return t.skip('this engine is in a swarm');
    const dir = await mkdtemp(join(tmpdir(), 'backupvol-cli-swarm-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const empty = join(dir, 'swarm.json');
    await writeFile(empty, JSON.stringify({ format: 'backupvol-swarm-definitions', version: 1, networks: [], configs: [], secrets: [], services: [] }));
    for (const args of [['swarm', 'export'], ['swarm', 'recreate', empty]]) {
      const failure = await run(join(REPO_ROOT, 'bin', 'backupvol'), args).then(
        () => assert.fail(`backupvol ${args.join(' ')} succeeded outside a swarm`),
        (error: CommandError) => error,
      );
      assert.equal(failure.exitCode, 1);
      assert.match(failure.stderr, /needs a Swarm manager: this node \(.+\) is not in a swarm/);
    }
  });

  it('says so when the plugin is not installed', async () => {
    await assert.rejects(
      run(join(REPO_ROOT, 'bin', 'backupvol'), ['--version'], { env: { ...process.env, BACKUPVOL_PLUGIN: 'bvt-not-installed' } }),
      /not installed/,
    );
  });
});
