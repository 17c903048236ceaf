import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allArchiveFiles, completeArchives, extractWithStandardTools, HOST_ARCHIVE_DIR } from '../helpers/archives';
import { containerEvents, isRunning, stoppedThenStarted, waitForRunAfter } from '../helpers/backup-status';
import { docker } from '../helpers/docker-cli';
import { eventually } from '../helpers/eventually';
import { backupvolCli } from '../helpers/host-cli';
import { hostVolumeDir, installFreshPlugin, PLUGIN, killPlugin, waitForPluginRestart } from '../helpers/plugin';
import { desiredReplicas, ensureSwarm, leaveSwarm, nodeName, serviceStory, waitForRunningTasks } from '../helpers/swarm';
import { IDLE, TEST_IMAGE, assertTestImage } from '../helpers/test-image';
import { useUniquePrefix } from '../helpers/unique-prefix';

const STOP = 'docker-volume-backup.stop-during-backup';
/** Each task appends to a file named after its container (its hostname), so the archive shows who wrote. */
const WRITER = ['sh', '-c', 'trap "exit 0" TERM; while true; do date >> /data/log-$(hostname); sleep 0.2; done'];

interface SwarmRun {
  time: string;
  result: string;
  durationMs: number;
  error: string | null;
  stopped: string[];
  scaled?: string[];
}

interface SwarmManifest {
  stopped: { containers: string[]; services?: string[]; specs?: { services: Record<string, unknown>[]; containers: Record<string, unknown>[] } };
}

describe('Docker Swarm mode (single-node swarm)', { timeout: 900_000 }, () => {
  const prefix = useUniquePrefix();
  let createdSwarm = false;
  let inSwarm = false;
  let node = '';
  /** A volume's archive folder relative to the local target: NODE/VOLUME in Swarm mode. */
  const folder = (volume: string) => (inSwarm ? `${node}/${volume}` : volume);

  const createService = (name: string, args: string[], command: string[] = IDLE) =>
    docker(['service', 'create', '--detach', '--no-resolve-image', '--name', name, ...args, TEST_IMAGE, ...command]);
  const mount = (volume: string) => ['--mount', `type=volume,source=${volume},target=/data,volume-driver=${PLUGIN}`];
  // Every volume names a backup-stop-label with this test's prefix: the default (`true`) would stop or
  // scale anything on the host labelled for stopping, not only what this test made.
  const createVolume = (volume: string, options: string[]) =>
    docker(['volume', 'create', '-d', PLUGIN, ...options.flatMap((option) => ['-o', option]), volume]);
  const lastRun = async (volume: string) =>
    (JSON.parse(await docker(['volume', 'inspect', '--format', '{{json .Status}}', volume])) as { lastRun: SwarmRun | null }).lastRun;

  before(async () => {
    await assertTestImage();
    createdSwarm = await ensureSwarm();
    inSwarm = true;
    node = await nodeName();
    await installFreshPlugin();
  });

  after(async () => {
    if (createdSwarm && inSwarm) await leaveSwarm();
  });

  it('a scheduled backup scales the attached service and a labelled one to 0, archives, and scales them back', async () => {
    const volume = `${prefix}web-data`;
    const web = `${prefix}web`;
    const labelled = `${prefix}labelled`;
    const unlabelled = `${prefix}unlabelled`;
    const standalone = `${prefix}standalone`;
    const label = `${prefix}app`;
    // One scheduled run at a known second, late enough for the services to be up, and none for a minute after.
    const second = new Date(Date.now() + 25_000).getUTCSeconds();
    await createVolume(volume, [`backup-schedule=${second} * * * * *`, `backup-stop-label=${label}`]);
    await createService(web, ['--replicas', '2', '--env', `API_TOKEN=${prefix}token-value`, ...mount(volume)], WRITER);
    await createService(labelled, ['--replicas', '1', '--label', `${STOP}=${label}`]);
    await createService(unlabelled, ['--replicas', '1']);
    // A plain container under Swarm is stopped and started directly (restart policy on-failure).
    await docker(['run', '-d', '--name', standalone, '--restart', 'on-failure', '--label', `${STOP}=${label}`, TEST_IMAGE, ...IDLE]);
    const writers = await waitForRunningTasks(web, 2);
    await waitForRunningTasks(labelled, 1);
    await waitForRunningTasks(unlabelled, 1);
    const since = new Date();

    const status = await waitForRunAfter(volume, since, 90_000);
    const run = (await lastRun(volume)) as SwarmRun;
    assert.equal(run.result, 'success', run.error ?? '');
    assert.deepEqual([...(run.scaled ?? [])].sort(), [labelled, web].sort());
    assert.deepEqual(run.stopped, [standalone]);
    assert.equal(status.quiesced, true);
    const replacements = await waitForRunningTasks(web, 2);
    await waitForRunningTasks(labelled, 1);
    const runStart = new Date(Date.parse(run.time) - 1_000);
    const now = new Date();

    assert.deepEqual(await serviceStory(web, runStart, now), ['scale 2->0', 'die', 'die', 'scale 0->2', 'start', 'start']);
    assert.deepEqual(await serviceStory(labelled, runStart, now), ['scale 1->0', 'die', 'scale 0->1', 'start']);
    assert.deepEqual(await serviceStory(unlabelled, runStart, now), []);
    assert.ok(stoppedThenStarted(await containerEvents(standalone, runStart)), 'the labelled plain container was stopped and started');
    assert.ok(await isRunning(standalone));
    assert.equal(await desiredReplicas(web), 2);
    assert.ok(replacements.every((task) => !writers.includes(task)), 'Swarm started new tasks');

    // Filed under the node's name; the archive holds what the two old tasks wrote, as they left it.
    const [archive] = await completeArchives(folder(volume));
    assert.ok(archive, `an archive in ${join(HOST_ARCHIVE_DIR, folder(volume))}`);
    const tree = await extractWithStandardTools(folder(volume), archive);
    try {
      assert.deepEqual((await readdir(tree)).sort(), writers.map((task) => `log-${task}`).sort());
      for (const task of writers) {
        const final = await readFile(join(hostVolumeDir(volume), 'data', `log-${task}`), 'utf8');
        assert.equal(await readFile(join(tree, `log-${task}`), 'utf8'), final, `log-${task} as its task left it`);
      }
    } finally {
      await rm(tree, { recursive: true, force: true });
    }

    // The manifest keeps the services' definitions, with environment names but never their values.
    const manifestText = await readFile(join(HOST_ARCHIVE_DIR, folder(volume), `${archive}.json`), 'utf8');
    const manifest = JSON.parse(manifestText) as SwarmManifest;
    assert.deepEqual([...(manifest.stopped.services ?? [])].sort(), [labelled, web].sort());
    const webSpec = manifest.stopped.specs?.services.find((spec) => spec.Name === web) as
      | { Mode: { Replicated: { Replicas: number } }; TaskTemplate: { ContainerSpec: { EnvNames: string[] } } }
      | undefined;
    assert.equal(webSpec?.Mode.Replicated.Replicas, 2);
    assert.deepEqual(webSpec?.TaskTemplate.ContainerSpec.EnvNames, ['API_TOKEN']);
    assert.ok(!manifestText.includes(`${prefix}token-value`), 'no environment value in the manifest');
  });

  it('refuses, before anything is scaled or stopped, a labelled task container of a labelled service and a global service', async () => {
    const label = `${prefix}clash`;
    const collisionVolume = `${prefix}collision`;
    const both = `${prefix}both-labelled`;
    const attached = `${prefix}attached`;
    await createVolume(collisionVolume, ['backup-schedule=none', `backup-stop-label=${label}`]);
    await createService(both, ['--replicas', '1', '--label', `${STOP}=${label}`, '--container-label', `${STOP}=${label}`]);
    await createService(attached, ['--replicas', '1', ...mount(collisionVolume)]);
    const globalVolume = `${prefix}global-data`;
    const agent = `${prefix}agent`;
    // A label of its own: with the clash label, the labelled service above would be refused first.
    await createVolume(globalVolume, ['backup-schedule=none', `backup-stop-label=${prefix}global`]);
    await createService(agent, ['--mode', 'global', ...mount(globalVolume)]);
    await waitForRunningTasks(both, 1);
    await waitForRunningTasks(attached, 1);
    await waitForRunningTasks(agent, 1);
    const since = new Date();

    const collision = await backupvolCli(['backup', collisionVolume]);
    assert.equal(collision.code, 1);
    assert.match(collision.stdout + collision.stderr, new RegExp(`container ${both}\\.1\\.\\w+ and its service ${both} are both labelled.*Nothing was stopped`));
    const global = await backupvolCli(['backup', globalVolume]);
    assert.equal(global.code, 1);
    assert.match(global.stdout + global.stderr, new RegExp(`service ${agent} mounts volume ${globalVolume} but is a global-mode service, which cannot be scaled to 0`));

    const now = new Date(Date.now() + 1_000);
    for (const service of [both, attached, agent]) assert.deepEqual(await serviceStory(service, since, now), [], `${service} untouched`);
    assert.deepEqual(await completeArchives(folder(collisionVolume)), []);
    assert.deepEqual(await completeArchives(folder(globalVolume)), []);
    assert.match((await lastRun(collisionVolume))?.error ?? '', /both labelled/);
  });

  it('a plugin killed while a service is at 0 scales it back to its former count when the engine restarts it', async () => {
    const volume = `${prefix}killed`;
    const service = `${prefix}killed-app`;
    await createVolume(volume, ['backup-schedule=none', 'backup-snapshot=direct', `backup-stop-label=${prefix}killed`]);
    // Random data archives slowly enough (direct mode: scaled down during the whole archive) to be caught.
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'dd', 'if=/dev/urandom', 'of=/data/random', 'bs=1M', 'count=600']);
    await createService(service, ['--replicas', '2', ...mount(volume)]);
    await waitForRunningTasks(service, 2);

    const backup = backupvolCli(['backup', volume]);
    let partial = '';
    await eventually('the service scaled to 0 by a backup in progress', async () => {
      partial = (await allArchiveFiles(folder(volume))).find((name) => name.startsWith('.partial-')) ?? '';
      return partial !== '' && (await desiredReplicas(service)) === 0;
    }, 90_000);
    const killed = await killPlugin();
    assert.notEqual((await backup).code, 0, 'the interrupted backup is not reported as done');
    await waitForPluginRestart(killed);
    await eventually('the service is back at 2 replicas', async () => (await desiredReplicas(service)) === 2, 60_000);
    await waitForRunningTasks(service, 2);
    const interrupted = partial.slice('.partial-'.length);
    assert.ok(!(await completeArchives(folder(volume))).includes(interrupted), `${interrupted} must not look complete`);
  });

  it('after leaving the swarm, archives go to the plain VOLUME folder again', async (t) => {
    if (!createdSwarm) {
      t.skip('the engine was in a swarm before this test: it is not made to leave it');
      return;
    }
    await leaveSwarm();
    inSwarm = false;
    const volume = `${prefix}after-swarm`;
    await createVolume(volume, ['backup-schedule=none', `backup-stop-label=${prefix}after-swarm`]);
    await docker(['run', '--rm', '-v', `${volume}:/data`, TEST_IMAGE, 'sh', '-c', 'echo hello > /data/hello']);
    const outcome = await backupvolCli(['backup', volume]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal((await completeArchives(volume)).length, 1, 'archived under the volume folder at the root');
    assert.deepEqual(await completeArchives(`${node}/${volume}`), []);
  });
});
