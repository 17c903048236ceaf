import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { run } from '../helpers/docker-cli';
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

  it('says so when the plugin is not installed', async () => {
    await assert.rejects(
      run(join(REPO_ROOT, 'bin', 'backupvol'), ['--version'], { env: { ...process.env, BACKUPVOL_PLUGIN: 'bvt-not-installed' } }),
      /not installed/,
    );
  });
});
