import { createRedactor, type Redactor } from '../shared/redact';
import type { TargetName } from '../vocabulary/volume-options';
import { LocalTarget } from './local-target';
import { NodeFolderTarget, type ArchiveFolders } from './node-folder-target';
import { RemoteTarget } from './remote-target';
import type { Target } from './target';
import type { RemoteSettings } from '../settings/target-settings';
import { TargetReader } from './target-reader';
import { WebdavStore } from './webdav-store';

const ALL_TARGETS: readonly TargetName[] = ['local', 's3', 'sftp', 'webdav'];

/** What a backup run needs: a volume's targets by name, and the redaction of their errors. */
export interface TargetProvider {
  get(name: TargetName): Target;
  redact(text: string): string;
  /** What is unsafe about these targets' settings (see TargetSet.warnings); none when absent. */
  warnings?(names: readonly TargetName[]): string[];
}

/** Without known host keys, a server that impersonates SFTP_HOST is trusted: it gets the archives and the password. */
export const SFTP_ANY_HOST_KEY =
  'sftp accepts any host key: SFTP_KNOWN_HOSTS and SFTP_KNOWN_HOSTS_FILE are not set, so a server that impersonates SFTP_HOST receives the archives (and the password); set one (ssh-keyscan -p PORT HOST)';

/**
 * The targets this plugin can write to, made from its settings once (each keeps its client), and the
 * one place that knows which setting a target lacks.
 */
export class TargetSet implements TargetProvider {
  private readonly made = new Map<TargetName, Target>();
  private readonly foldered = new Map<TargetName, Target>();

  constructor(
    private readonly localRoot: string,
    private readonly remote: RemoteSettings,
    /** Per-node folders in Swarm mode; without it, archives go to VOLUME/ of each target. */
    private readonly folders?: ArchiveFolders,
    /**
     * The plugin's redaction (main.ts: every secret, not only the targets'), made once. Without it, the
     * targets' own secrets: enough for tests that only run targets.
     */
    private readonly redactor: Redactor = createRedactor(remote.secrets),
  ) {}

  /** Throws, naming the missing plugin settings, when a target cannot be used. */
  assertUsable(names: readonly TargetName[]): void {
    for (const name of names) {
      if (name === 'local') continue;
      const missing = this.remote.missing[name];
      if (missing.length > 0) {
        throw new Error(`backup-target=${name} needs the plugin setting(s) ${missing.join(', ')} (docker plugin set)`);
      }
    }
  }

  get(name: TargetName): Target {
    let target = this.foldered.get(name);
    if (!target) {
      const made = this.atRoot(name);
      target = this.folders ? new NodeFolderTarget(made, this.folders) : made;
      this.foldered.set(name, target);
    }
    return target;
  }

  /** The target without node folders: its verbs take a folder relative to its root (`_swarm/NODE`). */
  atRoot(name: TargetName): Target {
    let target = this.made.get(name);
    if (!target) {
      target = this.make(name);
      this.made.set(name, target);
    }
    return target;
  }

  /** Reads archives from these targets, in this order (see TargetReader). */
  reader(names: readonly TargetName[]): TargetReader {
    return new TargetReader(names.map((name) => this.get(name)));
  }

  /** Every usable target, local first: where the archives of a volume that is gone may be. */
  usable(): TargetName[] {
    return ALL_TARGETS.filter((name) => name === 'local' || this.remote.missing[name].length === 0);
  }

  /** What is unsafe about the settings of these targets, for the log and the volume's status. */
  warnings(names: readonly TargetName[]): string[] {
    const sftp = this.remote.sftp;
    return names.includes('sftp') && sftp && !sftp.knownHosts ? [SFTP_ANY_HOST_KEY] : [];
  }

  /** Strips every configured secret (and URL credentials) from a text. */
  redact(text: string): string {
    return this.redactor(text);
  }

  /**
   * The S3 and SFTP clients (the AWS SDK, ssh2: about 20 MiB) are loaded when a volume first uses them,
   * not at the plugin's start: most installs back up to the host folder alone.
   */
  private make(name: TargetName): Target {
    this.assertUsable([name]);
    const { s3, sftp, webdav, stallTimeoutMs: stallMs } = this.remote;
    if (name === 's3' && s3) {
      const { S3Store } = require('./s3-store') as typeof import('./s3-store');
      return new RemoteTarget(new S3Store(s3, stallMs), this.redactor, stallMs);
    }
    if (name === 'sftp' && sftp) {
      const { SftpStore } = require('./sftp-store') as typeof import('./sftp-store');
      return new RemoteTarget(new SftpStore(sftp, stallMs), this.redactor, stallMs);
    }
    if (name === 'webdav' && webdav) return new RemoteTarget(new WebdavStore(webdav), this.redactor, stallMs);
    return new LocalTarget(this.localRoot);
  }
}
