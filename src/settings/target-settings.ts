import { readFileSync } from 'node:fs';
import { loadTimeouts, readSecret, type Env } from './settings';
import type { TargetName } from '../vocabulary/volume-options';

export interface S3Settings {
  endpoint?: string;
  bucket: string;
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SftpSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** The private key's content (read from SFTP_IDENTITY_FILE). */
  privateKey?: string;
  path: string;
  /** known_hosts lines; when set, a server whose key is not among them is refused. */
  knownHosts?: string;
}

export interface WebdavSettings {
  url: string;
  username?: string;
  password?: string;
  path: string;
}

export interface RemoteSettings {
  s3?: S3Settings;
  sftp?: SftpSettings;
  webdav?: WebdavSettings;
  /** Per remote target, the settings it lacks (empty when it is usable). */
  missing: Record<Exclude<TargetName, 'local'>, string[]>;
  /** Every secret value in play, for redaction. */
  secrets: string[];
  /** TRANSFER_STALL_TIMEOUT in ms: how long a remote target may make no progress. */
  stallTimeoutMs?: number;
}

/**
 * Reads the target settings of the contract. A target whose required settings are missing is left out,
 * with the names of what is missing, so `docker volume create` can say exactly what to set.
 */
export function loadRemoteSettings(env: Env): RemoteSettings {
  const value = (name: string): string => env[name]?.trim() ?? '';
  // A file that cannot be read makes its target unusable (create names it), never the plugin fail to start.
  const unreadable: Record<string, string> = {};
  const readOrNote = (name: string, read: () => string | undefined): string => {
    try {
      return read() ?? '';
    } catch (error) {
      unreadable[name] = `${name} (cannot read ${env[`${name}_FILE`] ?? env[name]}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      return '';
    }
  };
  const secret = (name: Parameters<typeof readSecret>[1]): string => readOrNote(name, () => readSecret(env, name));
  const missingOf = (names: string[]) => names.filter((name) => value(name) === '');

  const s3Secret = secret('S3_SECRET_ACCESS_KEY');
  const s3Missing = missingOf(['S3_BUCKET', 'S3_ACCESS_KEY_ID']);
  if (s3Secret === '') s3Missing.push(unreadable.S3_SECRET_ACCESS_KEY ?? 'S3_SECRET_ACCESS_KEY (or S3_SECRET_ACCESS_KEY_FILE)');

  const sftpPassword = secret('SFTP_PASSWORD');
  const identityFile = value('SFTP_IDENTITY_FILE');
  const privateKey = identityFile ? readOrNote('SFTP_IDENTITY_FILE', () => readFileSync(identityFile, 'utf8')) : '';
  const hostKeys = readOrNote('SFTP_KNOWN_HOSTS', () => knownHosts(env));
  const sftpMissing = missingOf(['SFTP_HOST', 'SFTP_USER']);
  if (sftpPassword === '' && privateKey === '') {
    sftpMissing.push(unreadable.SFTP_IDENTITY_FILE ?? unreadable.SFTP_PASSWORD ?? 'SFTP_PASSWORD (or SFTP_PASSWORD_FILE) or SFTP_IDENTITY_FILE');
  }
  // Known hosts that were asked for but cannot be read must not silently turn into "trust any key".
  if (unreadable.SFTP_KNOWN_HOSTS) sftpMissing.push(unreadable.SFTP_KNOWN_HOSTS);

  const webdavPassword = secret('WEBDAV_PASSWORD');
  const webdavMissing = missingOf(['WEBDAV_URL']);
  if (unreadable.WEBDAV_PASSWORD) webdavMissing.push(unreadable.WEBDAV_PASSWORD);

  const settings: RemoteSettings = {
    missing: { s3: s3Missing, sftp: sftpMissing, webdav: webdavMissing },
    secrets: [s3Secret, sftpPassword, webdavPassword, ...keyFileSecrets(privateKey)].filter((text) => text !== ''),
    stallTimeoutMs: loadTimeouts(env).transferStallSeconds * 1000,
  };
  if (s3Missing.length === 0) {
    settings.s3 = {
      endpoint: value('S3_ENDPOINT') || undefined,
      bucket: value('S3_BUCKET'),
      prefix: folderPrefix(value('S3_PREFIX')),
      // Most S3-compatible servers ignore the region but the signature needs one.
      region: value('S3_REGION') || 'us-east-1',
      accessKeyId: value('S3_ACCESS_KEY_ID'),
      secretAccessKey: s3Secret,
    };
  }
  const port = Number(value('SFTP_PORT') || '22');
  if (!Number.isInteger(port) || port < 1 || port > 65535) sftpMissing.push(`SFTP_PORT (${value('SFTP_PORT')} is not a port number)`);
  if (sftpMissing.length === 0) {
    settings.sftp = {
      host: value('SFTP_HOST'),
      port,
      user: value('SFTP_USER'),
      password: sftpPassword || undefined,
      privateKey: privateKey || undefined,
      path: value('SFTP_PATH') || '.',
      knownHosts: hostKeys || undefined,
    };
  }
  if (webdavMissing.length === 0) {
    settings.webdav = {
      url: value('WEBDAV_URL'),
      username: value('WEBDAV_USERNAME') || undefined,
      password: webdavPassword || undefined,
      path: value('WEBDAV_PATH') || '/',
    };
  }
  return settings;
}

/**
 * A private key file as a whole and line by line: an error that quoted a key would more likely quote a
 * line of it than the file with its final newline. The armor lines (-----BEGIN ...) are not secret.
 */
function keyFileSecrets(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('-----'));
  return [text, text.trim(), ...lines];
}

/** SFTP_KNOWN_HOSTS (known_hosts lines, `;` or newline separated) or the file SFTP_KNOWN_HOSTS_FILE names. */
function knownHosts(env: Env): string | undefined {
  const direct = env.SFTP_KNOWN_HOSTS?.trim();
  if (direct) return direct.replace(/;/g, '\n');
  const file = env.SFTP_KNOWN_HOSTS_FILE?.trim();
  return file ? readFileSync(file, 'utf8') : undefined;
}

/** `a/b` -> `a/b/`, `` -> ``: keys are PREFIX + VOLUME/ARCHIVE. */
function folderPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
