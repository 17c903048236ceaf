import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { docker } from '../helpers/docker-cli';
import { restartDockerd } from '../helpers/dockerd';
import { eventually } from '../helpers/eventually';
import {
  PLUGIN,
  createPlugin,
  enablePlugin,
  hostVolumeDir,
  installFreshPlugin,
  isPluginDriver,
  pluginEnabled,
} from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { inspectVolume, readInVolume, volumeNames, writeInVolume } from '../helpers/volumes';

/** One volume goes through every kind of restart in turn; its data must come through each. */
describe('volume data survives plugin and engine restarts', { timeout: 600_000 }, () => {
  const prefix = useUniquePrefix();
  const volume = `${prefix}durable`;
  const content = `kept ${randomUUID()}\n`;

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
    await docker(['volume', 'create', '-d', PLUGIN, '-o', 'backup-schedule=@daily', volume]);
    await writeInVolume(volume, 'kept.txt', content);
  });

  it('survives docker plugin disable -f and enable', async () => {
    await docker(['plugin', 'disable', '-f', PLUGIN]);
    await enablePlugin(PLUGIN);

    assert.equal(await readInVolume(volume, 'kept.txt'), content);
    assert.deepEqual((await inspectVolume(volume)).Options, { 'backup-schedule': '@daily' });
  });

  it('brings a running container back after a dockerd restart, still seeing the data', async () => {
    const container = `${prefix}always-on`;
    await docker([
      'run', '-d', '--name', container, '--restart', 'unless-stopped',
      '-v', `${volume}:/data`, TEST_IMAGE, 'sleep', '3600',
    ]);
    await docker(['exec', container, 'sh', '-c', 'echo before-restart > /data/before.txt']);

    await restartDockerd();

    assert.ok(await pluginEnabled(PLUGIN), 'the plugin is enabled again after the restart');
    await eventually('the container runs again', async () =>
      (await docker(['inspect', '--format', '{{.State.Running}}', container])).trim() === 'true',
    );
    assert.equal(await docker(['exec', container, 'cat', '/data/kept.txt']), content);
    assert.equal(await docker(['exec', container, 'cat', '/data/before.txt']), 'before-restart\n');
    await docker(['exec', container, 'sh', '-c', 'echo after-restart > /data/after.txt']);
    assert.equal(
      await readFile(join(hostVolumeDir(volume), 'data', 'after.txt'), 'utf8'),
      'after-restart\n',
      'what the container writes after the restart lands in the volume on the host',
    );
    await docker(['rm', '-f', container]);
  });

  it('is adopted by a plugin removed with rm -f and created again', async () => {
    await docker(['plugin', 'rm', '-f', PLUGIN]);
    assert.ok(existsSync(join(hostVolumeDir(volume), 'data', 'kept.txt')), 'removing the plugin kept the data');

    await createPlugin(PLUGIN);
    await enablePlugin(PLUGIN);

    assert.ok((await volumeNames()).includes(volume), 'docker volume ls lists the volume');
    const inspected = await inspectVolume(volume);
    assert.ok(isPluginDriver(inspected.Driver), `Driver is ${inspected.Driver}`);
    assert.deepEqual(inspected.Options, { 'backup-schedule': '@daily' });
    assert.equal(await readInVolume(volume, 'kept.txt'), content);
  });
});
