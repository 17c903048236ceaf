// The plugin process, wired here. Each folder imports only the ones below it:
//   plugin/     the Docker volume protocol and the host CLI's admin routes, over the unix socket
//   runs/       schedules, backup runs (runs/backup/), restores and verifies (runs/restore/), retention, status,
//               the Swarm's definitions (runs/swarm/: export, recreate, scheduled export)
//   volumes/    the volume driver: create, remove, mount, path, get, list; options and persisted records
//   snapshot/   the sync, copy and direct snapshots of a volume, and the sync mirror
//   targets/    where archives go: local folder, S3, SFTP, WebDAV
//   engine/     every Docker API call (engine/docker-api.ts), quiesce planning, stop, bring-back, journal
//   crypto/ archive/   encryption; the tar format, codecs, pack and extract (one entry: archive/index.ts)
//   settings/ vocabulary/ shared/   plugin settings; the types all layers share; logger, locks, files
// cli/ is the host-side `backupvol` command; it talks to this process through the socket.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AdminService } from './runs/admin-service';
import { createRuns } from './runs/runs';
import { Restores } from './runs/restore/restores';
import { chainIndexesOf } from './runs/backup/chain-link';
import { DockerodeApi } from './engine/dockerode-api';
import { waitForDocker } from './engine/wait-for-docker';
import { missingKeySetting } from './settings/archive-keys';
import { createLogger } from './shared/logger';
import { createRedactor } from './shared/redact';
import { Notifier } from './runs/notifier';
import { BindMounter } from './volumes/bind-mounter';
import { createAdminRouter } from './plugin/admin-routes';
import { createProtocolApp } from './plugin/protocol-routes';
import { listenOnUnixSocket } from './plugin/unix-socket-server';
import { BringBackRetrier } from './runs/bring-back-retrier';
import { replayAfterFailedStart } from './engine/replay-after-failed-start';
import { restartJournaledContainers } from './engine/restart-journaled';
import { StopJournal } from './engine/stop-journal';
import { endStartupTiering } from './shared/startup-tiering';
import { removeStagingLeftovers } from './snapshot/staging-layout';
import { ConcurrencyLimit } from './shared/concurrency-limit';
import { VolumeActivity } from './runs/volume-activity';
import { VolumeScheduler } from './runs/volume-scheduler';
import { heldReplicasOf, SwarmExports, targetsOfVolumes } from './runs/swarm/swarm-exports';
import { SWARM_FOLDER } from './runs/swarm/stored-exports';
import { parseRetention } from './volumes/retention-option';
import { loadPluginSecrets } from './settings/plugin-secrets';
import { loadPaths, loadSettings, type ListenAddress } from './settings/settings';
import type { MetricsServer, MetricsServerDeps } from './plugin/metrics-server';
import type { Logger } from './shared/logger';
import { RunStateStore } from './runs/run-state';
import { TargetSet } from './targets/target-set';
import type { TargetName } from './vocabulary/volume-options';
import { SwarmNodeFolder } from './targets/node-folder-target';
import { VolumeRegistry } from './volumes/volume-registry';
import { VolumeStore } from './volumes/volume-store';

/** Set once a start got as far as its own replay of the stop journal; a start that failed before replays it below. */
let journalReplayed = false;

/**
 * Startup order matters: state is read and the socket opened before anything else, because the engine
 * may be waiting on this plugin (it holds locks at boot) and is not serving its own API yet. Whatever
 * needs the Docker API waits for it in the background.
 */
async function main(): Promise<void> {
  const settings = loadSettings();
  const { keys, remote, secrets } = loadPluginSecrets(process.env, settings.notifyUrls);
  // One redaction for the log, the targets (run errors, statuses) and the notifier: all hide the same values.
  const redact = createRedactor(secrets);
  const logger = createLogger(settings.logLevel, redact);
  const { dataDir } = settings.paths;
  const stagingRoot = join(dataDir, 'staging');
  const store = new VolumeStore(dataDir);
  const docker = new DockerodeApi(undefined, { requestTimeoutMs: settings.timeouts.dockerApiSeconds * 1000 });
  const journal = new StopJournal(dataDir);
  const scheduler = new VolumeScheduler(settings.timezone);
  const drillScheduler = new VolumeScheduler(settings.timezone);
  const notifier = new Notifier({ urls: settings.notifyUrls, level: settings.notifyLevel, logger, redact });
  const targets = new TargetSet(
    settings.paths.archiveDir,
    remote,
    new SwarmNodeFolder(docker, join(dataDir, 'archive-folder.json')),
    redact,
  );
  const readArchives = (names: readonly TargetName[]) => targets.reader(names);
  const activity = new VolumeActivity();
  const retrier = new BringBackRetrier({ docker, journal, activity, logger });
  // Aborted by SIGTERM (docker plugin disable, upgrade): runs stop and bring back what they stopped.
  const stopping = new AbortController();
  const recovery = {
    docker,
    journal,
    targets,
    stopTimeoutSeconds: settings.stopTimeoutSeconds,
    serviceStopTimeoutSeconds: settings.serviceStopTimeoutSeconds,
    hookTimeoutSeconds: settings.timeouts.hookSeconds,
    logger,
    keys,
    keepSpecialBits: settings.restoreSpecialBits,
  };
  const registry: VolumeRegistry = new VolumeRegistry({
    store,
    mounter: new BindMounter(),
    mountRoot: settings.paths.mountRoot,
    defaults: {
      schedule: settings.defaultSchedule,
      retention: settings.defaultRetention,
      encryption: settings.defaultEncryption,
      fullEvery: settings.defaultFullEvery,
      missingKeySetting: (encryption, verify) => missingKeySetting(encryption, keys, verify),
    },
    stageRestoreFrom: (volume, from, stagingDir, options) => restores.atCreate(volume, from, stagingDir, options),
    checkOptions: (options) => targets.assertUsable(options.targets),
    logger,
  });
  let dockerAnswers: () => void = () => undefined;
  const runs = createRuns({
    backup: recovery,
    scheduler,
    limit: new ConcurrencyLimit(settings.maxConcurrentBackups),
    runStates: new RunStateStore(store.volumesDir),
    stagingRoot,
    discardTree: (path) => store.moveToTrash(path),
    dataPath: (volume) => store.dataPath(volume),
    dockerReady: new Promise<void>((resolve) => (dockerAnswers = resolve)),
    activity,
    retrier,
    signal: stopping.signal,
    logger,
    readArchives,
    targetWarnings: (names) => targets.warnings(names),
    notifier,
    drillScheduler,
    drill: (volume) => restores.drill(volume, 'latest', 'schedule', () => undefined),
  });
  const restores: Restores = new Restores({
    registry,
    gate: runs.gate,
    recorder: runs.recorder,
    restore: recovery,
    readArchives,
    usableTargets: () => targets.usable(),
    restartChain: (volume) => chainIndexesOf(join(stagingRoot, volume)).forget(),
    notifier,
    progress: runs.progress,
  });
  registry.observe(runs.volumes, (volume) => runs.status.of(volume));
  const swarm = new SwarmExports({
    sources: { docker, definitions: docker.definitions(), heldReplicas: () => heldReplicasOf(journal) },
    exportTargets: () =>
      targetsOfVolumes(registry.all().map((volume) => volume.options?.targets ?? []), targets.usable()).map((name) => targets.atRoot(name)),
    retention: () => parseRetention(settings.defaultRetention),
    logger,
  });
  const exportScheduler = new VolumeScheduler(settings.timezone);
  if (settings.swarmExportSchedule) {
    exportScheduler.set({ volume: SWARM_FOLDER, cron: settings.swarmExportSchedule, jitterMs: 0, fire: () => void swarm.runScheduled() });
  }
  const admin = new AdminService({ registry, backups: runs.backups, restores, status: runs.status, swarm });
  await registry.load();

  const server = await listenOnUnixSocket(settings.paths.socket, createProtocolApp(registry, logger, createAdminRouter(admin, logger)));
  logger.info(`Listening on ${settings.paths.socket}`);
  for (const warning of targets.warnings(targets.usable())) logger.warn(`WARNING: ${warning}`);
  const volumeNames = () => registry.all().map((volume) => volume.record.name);
  const state = (volume: string) => runs.states.of(volume);
  // Not awaited: nothing else waits for the metrics, and a port already taken must not stop the plugin.
  const metricsServer = settings.metricsAddress
    ? serveMetrics(settings.metricsAddress, logger, {
        metrics: { volumes: volumeNames, state, nextRun: (volume) => scheduler.nextRun(volume), counts: (volume) => runs.counts.of(volume), progress: (volume) => runs.progress.ratio(volume) },
        health: { ping: () => docker.ping(), volumes: volumeNames, state, targets: () => targets.usable() },
      })
    : undefined;
  // Deleting what removes and interrupted restores left can take long: never before the socket opens.
  void registry.emptyTrash();
  await registry.restoreMounts();
  endStartupTiering();

  journalReplayed = true;
  // Copies left by runs that died: removed in the background too, and before any run (they wait below).
  const stagingCleared = removeStagingLeftovers(stagingRoot, (message) => logger.warn(message));
  // Not awaited: the socket is already open. Runs do wait for the replay and its retries (seconds), so that
  // none of them rewrites a journal entry the replay is still working through.
  void waitForDocker(docker, logger)
    .then(() => restartJournaledContainers(docker, journal, logger))
    .then(async () => {
      for (const { volume } of await journal.pending()) await retrier.retryJournaled(volume);
    })
    .catch((error: Error) => logger.error(`Restarting containers of an interrupted backup failed: ${error.message}`))
    .then(() => stagingCleared)
    .finally(() => {
      dockerAnswers();
      runs.volumes.catchUpMissedRuns();
    });

  // The engine kills a plugin that has not exited 10 s after its SIGTERM. The socket stays open until the
  // end: starting a container whose volume is ours makes the engine call Mount here.
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping.signal.aborted) return;
    setTimeout(() => process.exit(0), SHUTDOWN_BUDGET_MS).unref();
    logger.info(`Received ${signal}: stopping the runs in progress and bringing back what they stopped`);
    scheduler.stopAll();
    drillScheduler.stopAll();
    exportScheduler.stopAll();
    retrier.stop();
    // A plugin on its way out is not healthy, whatever its last figures say.
    void metricsServer?.then((metrics) => metrics?.close());
    stopping.abort(new Error(`the plugin is stopping (${signal})`));
    await Promise.race([activity.allIdle(), delay(RUNS_SETTLE_MS)]);
    // Whatever a run could not bring back in time, and what earlier runs left down, from the journal: once.
    await restartJournaledContainers(docker, journal, logger, []).catch((error: Error) =>
      logger.error(`Bringing back what runs stopped failed: ${error.message}`),
    );
    logger.info('Stopped');
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * prom-client is loaded here only, when METRICS_ADDR is set: a plugin without metrics keeps the idle
 * memory it had. A listener that cannot start (the port is taken) is logged, and the plugin goes on.
 */
async function serveMetrics(
  address: ListenAddress,
  logger: Logger,
  sources: Pick<MetricsServerDeps, 'metrics' | 'health'>,
): Promise<MetricsServer | undefined> {
  const shown = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  try {
    const { startMetricsServer } = require('./plugin/metrics-server') as typeof import('./plugin/metrics-server');
    const server = await startMetricsServer({ address, logger, ...sources });
    logger.info(`Serving /metrics and /healthz on ${shown} (METRICS_ADDR)`);
    return server;
  } catch (error) {
    logger.error(`Could not serve /metrics and /healthz on METRICS_ADDR=${shown}: ${(error as Error).message}`);
    return undefined;
  }
}

/** Within 5 s of a SIGTERM the process is gone, whatever is still under way. */
const SHUTDOWN_BUDGET_MS = 4_500;
/** How long aborted runs get to bring back what they stopped themselves, before the journal is replayed. */
const RUNS_SETTLE_MS = 2_500;

main().catch(async (error: Error) => {
  console.error(`backupvol failed to start: ${error.message}`);
  console.error(error.stack);
  if (!journalReplayed) {
    const logger = createLogger('info');
    await replayAfterFailedStart({ docker: new DockerodeApi(), journal: new StopJournal(loadPaths().dataDir), logger });
  }
  process.exit(1);
});
