import { readFileSync } from 'node:fs';
import { parseCronSchedule } from '../shared/cron-schedule';

/**
 * Plugin settings come from the environment that `docker plugin set` controls. Secrets may also be given
 * as NAME_FILE (a path), so they never have to appear in `docker plugin inspect`.
 */
export interface Settings {
  timezone: string;
  defaultSchedule: string;
  defaultRetention: string;
  defaultEncryption: string;
  /** DEFAULT_FULL_EVERY: backup-full-every of volumes created without one. */
  defaultFullEvery: string;
  maxConcurrentBackups: number;
  /** STOP_TIMEOUT: a cap on each container's own stop timeout; undefined (the default) caps nothing. */
  stopTimeoutSeconds?: number;
  serviceStopTimeoutSeconds: number;
  /** HOOK_TIMEOUT, DOCKER_API_TIMEOUT, TRANSFER_STALL_TIMEOUT. */
  timeouts: Timeouts;
  logLevel: string;
  notifyUrls: string[];
  notifyLevel: 'error' | 'info';
  /** RESTORE_SPECIAL_BITS: restores keep set-user-ID and set-group-ID bits (a planted archive could add them). */
  restoreSpecialBits: boolean;
  /** METRICS_ADDR: where `/metrics` and `/healthz` are served; undefined (the default) serves nothing. */
  metricsAddress?: ListenAddress;
  /** SWARM_EXPORT_SCHEDULE: when a manager stores its Swarm's definitions on the targets; undefined: never. */
  swarmExportSchedule?: string;
  paths: PluginPaths;
}

/** A TCP address to listen on, as METRICS_ADDR gives it. */
export interface ListenAddress {
  /** An IPv4 address, an IPv6 address (without its brackets) or a host name. */
  host: string;
  port: number;
}

/** How long the plugin waits on anything outside it before a run fails, naming what hung. */
export interface Timeouts {
  /** Seconds an archive-pre or archive-post command may run. */
  hookSeconds: number;
  /** Seconds a Docker API request may go unanswered (a container's stop gets its stop timeout on top). */
  dockerApiSeconds: number;
  /** Seconds a target may make no progress (take no bytes, give no answer) before its transfer fails. */
  transferStallSeconds: number;
}

export interface PluginPaths {
  /** The unix socket the engine talks to. */
  socket: string;
  /** Host directory (bind-mounted) holding each volume's data and state; survives plugin removal. */
  dataDir: string;
  /** The local target's root. */
  archiveDir: string;
  /** The plugin's propagatedMount: what is bind-mounted here is visible to the engine. */
  mountRoot: string;
}

export const SECRET_SETTINGS = [
  'S3_SECRET_ACCESS_KEY',
  'SFTP_PASSWORD',
  'WEBDAV_PASSWORD',
  'GPG_PASSPHRASE',
  'AGE_PASSPHRASE',
  'AGE_IDENTITY',
] as const;

/** The process environment, or a test's stand-in for it. */
export type Env = Record<string, string | undefined>;

export function loadSettings(env: Env = process.env): Settings {
  return {
    timezone: timeZone(env),
    defaultSchedule: text(env, 'DEFAULT_SCHEDULE', 'none'),
    defaultRetention: text(env, 'DEFAULT_RETENTION', ''),
    defaultEncryption: text(env, 'DEFAULT_ENCRYPTION', 'none'),
    defaultFullEvery: text(env, 'DEFAULT_FULL_EVERY', '1'),
    maxConcurrentBackups: positiveInteger(env, 'MAX_CONCURRENT_BACKUPS', 1),
    stopTimeoutSeconds: optionalPositiveInteger(env, 'STOP_TIMEOUT'),
    serviceStopTimeoutSeconds: positiveInteger(env, 'SERVICE_STOP_TIMEOUT', 300),
    timeouts: loadTimeouts(env),
    logLevel: text(env, 'LOG_LEVEL', 'info'),
    notifyUrls: text(env, 'NOTIFY_URLS', '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
    notifyLevel: text(env, 'NOTIFY_LEVEL', 'error') === 'info' ? 'info' : 'error',
    restoreSpecialBits: yesOrNo(env, 'RESTORE_SPECIAL_BITS', false),
    metricsAddress: listenAddress(env, 'METRICS_ADDR'),
    swarmExportSchedule: schedule(env, 'SWARM_EXPORT_SCHEDULE'),
    paths: loadPaths(env),
  };
}

/** The paths alone never fail to load: a start that fails on a setting still finds the stop journal with them. */
export function loadPaths(env: Env = process.env): PluginPaths {
  return {
    socket: text(env, 'BACKUPVOL_SOCKET', '/run/docker/plugins/backupvol.sock'),
    dataDir: text(env, 'BACKUPVOL_DATA_DIR', '/var/lib/backupvol'),
    archiveDir: text(env, 'BACKUPVOL_ARCHIVE_DIR', '/archive'),
    mountRoot: text(env, 'BACKUPVOL_MOUNT_ROOT', '/mnt/volumes'),
  };
}

/**
 * The host CLI's settings: bin/backupvol sets them from `docker plugin inspect` before it starts the CLI,
 * and the paths are those the plugin itself reads, seen from the host.
 */
export interface CliSettings {
  /** The plugin's name, as `docker plugin ls` shows it; also the driver of the volumes `--into` creates. */
  plugin: string;
  /** Whether the engine has the plugin enabled; undefined when that could not be asked. */
  pluginEnabled?: boolean;
  socket: string;
  /** Where `backupvol recover` reads the stop journal. */
  dataDir: string;
}

export function loadCliSettings(env: Env = process.env): CliSettings {
  const { socket, dataDir } = loadPaths(env);
  const enabled = env.BACKUPVOL_PLUGIN_ENABLED?.trim();
  return {
    plugin: text(env, 'BACKUPVOL_PLUGIN', 'backupvol'),
    pluginEnabled: enabled === 'true' || enabled === 'false' ? enabled === 'true' : undefined,
    socket,
    dataDir,
  };
}

/** Also what the parts that take a timeout use when made without the settings (tests, benchmarks). */
export const DEFAULT_TIMEOUTS: Timeouts = { hookSeconds: 300, dockerApiSeconds: 60, transferStallSeconds: 60 };

export function loadTimeouts(env: Env = process.env): Timeouts {
  return {
    hookSeconds: positiveInteger(env, 'HOOK_TIMEOUT', DEFAULT_TIMEOUTS.hookSeconds),
    dockerApiSeconds: positiveInteger(env, 'DOCKER_API_TIMEOUT', DEFAULT_TIMEOUTS.dockerApiSeconds),
    transferStallSeconds: positiveInteger(env, 'TRANSFER_STALL_TIMEOUT', DEFAULT_TIMEOUTS.transferStallSeconds),
  };
}

/** A secret from NAME, or read from the file NAME_FILE names; undefined when neither is set. */
export function readSecret(env: Env, name: (typeof SECRET_SETTINGS)[number]): string | undefined {
  const direct = env[name];
  if (direct) return direct;
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

function schedule(env: Env, name: string): string | undefined {
  const raw = text(env, name, 'none');
  try {
    return parseCronSchedule(raw) ?? undefined;
  } catch (error) {
    throw new Error(`setting ${name}=${raw}: ${(error as Error).message}`);
  }
}

function yesOrNo(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new Error(`setting ${name}=${raw} must be true or false`);
}

/**
 * Checked here, at start, with the clear error below: the scheduler (node-cron) throws a bare RangeError
 * for an unknown zone the moment the first scheduled volume is loaded, and only then. The default needs
 * no check: asking Intl loads ICU's data into the process (~8 MiB of RSS), which a plugin with no
 * scheduled volume never needs.
 */
function timeZone(env: Env): string {
  const value = text(env, 'TZ', 'UTC');
  if (value === 'UTC') return value;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new Error(`setting TZ=${value} is not a time zone: give an IANA name such as UTC or Europe/Berlin`);
  }
  return value;
}

/** Unset (empty) stays undefined: the setting is a cap that applies only when the user gives one. */
function optionalPositiveInteger(env: Env, name: string): number | undefined {
  return env[name]?.trim() ? positiveInteger(env, name, 0) : undefined;
}

/**
 * HOST:PORT, or [IPV6]:PORT. A host is required: the plugin runs with the host's network, so an address
 * that silently listened on every interface would publish the metrics beyond what the user chose.
 */
function listenAddress(env: Env, name: string): ListenAddress | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65_535) {
    throw new Error(
      `setting ${name}=${raw} is not HOST:PORT: give e.g. 127.0.0.1:9333, [::1]:9333, or 0.0.0.0:9333 for every interface`,
    );
  }
  return { host: match[1] ?? match[2], port };
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`setting ${name}=${raw} is not a positive whole number`);
  }
  return value;
}
