import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, run } from '../helpers/docker-cli';
import { hostVolumeDir, installFreshPlugin, isPluginDriver } from '../helpers/plugin';
import { TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';
import { inspectVolume, volumeNames } from '../helpers/volumes';

/** docker-compose v1 (Debian's docker-compose 1.29): `driver: backupvol` with driver_opts. */
describe('docker-compose with driver: backupvol', { timeout: 300_000 }, () => {
  const prefix = useUniquePrefix();
  const project = `${prefix}compose`;
  const volume = `${project}_data`;
  let composeFile = '';
  const compose = (args: string[]) => run('docker-compose', ['--project-name', project, '--file', composeFile, ...args]);

  before(async () => {
    await assertTestImage();
    await installFreshPlugin();
    composeFile = join(await mkdtemp(join(tmpdir(), 'backupvol-compose-')), 'docker-compose.yml');
    // JSON is YAML: no quoting rules to get wrong.
    const definition = {
      version: '2.4',
      services: {
        app: {
          image: TEST_IMAGE,
          command: ['sh', '-c', 'echo from-compose > /data/hello.txt && exec sleep 3600'],
          volumes: ['data:/data'],
        },
      },
      volumes: {
        data: {
          driver: 'backupvol',
          driver_opts: { 'backup-schedule': '@daily', 'backup-retention': '7', 'backup-compression': 'zstd' },
        },
      },
    };
    await writeFile(composeFile, JSON.stringify(definition, null, 2));
  });

  after(async () => {
    if (composeFile === '') return;
    await compose(['down', '--volumes', '--timeout', '1']).catch(() => undefined);
    await rm(dirname(composeFile), { recursive: true, force: true });
  });

  it('creates the volume with the driver_opts as options, and down -v removes it', async () => {
    await compose(['up', '-d']);

    const inspected = await inspectVolume(volume);
    assert.ok(isPluginDriver(inspected.Driver), `Driver is ${inspected.Driver}`);
    assert.deepEqual(inspected.Options, {
      'backup-schedule': '@daily',
      'backup-retention': '7',
      'backup-compression': 'zstd',
    });
    const container = (await compose(['ps', '-q', 'app'])).trim();
    assert.notEqual(container, '', 'the service runs');
    await assertEventuallyReads(container, '/data/hello.txt', 'from-compose\n');

    await compose(['down', '--volumes', '--timeout', '1']);
    assert.ok(!(await volumeNames()).includes(volume), 'down -v removed the volume');
    assert.ok(!existsSync(hostVolumeDir(volume)), 'and its data');
  });
});

async function assertEventuallyReads(container: string, path: string, expected: string): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    last = await docker(['exec', container, 'cat', path]).catch((error: Error) => error.message);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(last, expected);
}
