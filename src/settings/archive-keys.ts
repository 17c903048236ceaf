import { readSecret, type Env } from './settings';
import type { Encryption } from '../vocabulary/volume-options';

/**
 * The key material of the encryption settings, read once at start. A setting whose _FILE cannot be read
 * is kept as a problem (the path, never a value), so that the plugin still starts and answers the engine,
 * and create/backup/restore say what is wrong.
 */
export interface ArchiveKeys {
  gpgPassphrase?: string;
  /** age1... recipients: public keys, not secret. */
  ageRecipients: string[];
  agePassphrase?: string;
  /** AGE-SECRET-KEY-... lines of AGE_IDENTITY: only restore and verify of recipient-encrypted archives need them. */
  ageIdentities: string[];
  /** The lines of an AGE_IDENTITY that was refused: never used, but a key with a typo is a key all the same. */
  refusedIdentities?: string[];
  /** Setting name -> why it could not be used. */
  problems: Record<string, string>;
}

export const NO_KEYS: ArchiveKeys = { ageRecipients: [], ageIdentities: [], problems: {} };

const RECIPIENT = /^age1[0-9a-z]+$/;
const IDENTITY = /^AGE-SECRET-KEY-[0-9A-Z-]+$/;

export function loadArchiveKeys(env: Env = process.env): ArchiveKeys {
  const problems: Record<string, string> = {};
  const secret = (name: 'GPG_PASSPHRASE' | 'AGE_PASSPHRASE' | 'AGE_IDENTITY'): string | undefined => {
    try {
      return readSecret(env, name) || undefined;
    } catch (error) {
      // The error of readFileSync names the path (not secret) and the reason.
      problems[name] = `${name}_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      return undefined;
    }
  };
  const ageRecipients = (env.AGE_RECIPIENTS ?? '')
    .split(',')
    .map((recipient) => recipient.trim())
    .filter((recipient) => recipient !== '');
  const invalid = ageRecipients.filter((recipient) => !RECIPIENT.test(recipient));
  if (invalid.length > 0) problems.AGE_RECIPIENTS = `AGE_RECIPIENTS holds ${invalid.map((r) => JSON.stringify(r)).join(', ')}: each must be an age1... recipient`;
  const identityText = secret('AGE_IDENTITY') ?? '';
  // An identity file as age-keygen writes it: comments and blank lines around AGE-SECRET-KEY- lines.
  const ageIdentities = identityText
    .split(/\r?\n|,/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (ageIdentities.some((line) => !IDENTITY.test(line))) {
    problems.AGE_IDENTITY = 'AGE_IDENTITY holds a line that is not an AGE-SECRET-KEY-... identity';
  }
  return {
    gpgPassphrase: secret('GPG_PASSPHRASE'),
    ageRecipients: invalid.length > 0 ? [] : ageRecipients,
    agePassphrase: secret('AGE_PASSPHRASE'),
    ageIdentities: problems.AGE_IDENTITY ? [] : ageIdentities,
    refusedIdentities: problems.AGE_IDENTITY ? ageIdentities : undefined,
    problems,
  };
}

/** Every secret value of the encryption settings, for the redaction (plugin-secrets.ts adds the targets' own). */
export function secretValuesOf(keys: ArchiveKeys): string[] {
  return [keys.gpgPassphrase, keys.agePassphrase, ...keys.ageIdentities, ...(keys.refusedIdentities ?? [])].filter((value): value is string => Boolean(value));
}

/**
 * Why a volume with this encryption cannot be backed up (and read back, when `verify`), naming the
 * settings to set; undefined when it can. Checked at `docker volume create` and before each run.
 */
export function missingKeySetting(encryption: Encryption, keys: ArchiveKeys, verify = false): string | undefined {
  if (encryption === 'gpg') {
    if (keys.gpgPassphrase) return undefined;
    return keys.problems.GPG_PASSPHRASE ?? 'backup-encryption=gpg needs the plugin setting GPG_PASSPHRASE or GPG_PASSPHRASE_FILE';
  }
  if (encryption === 'age') {
    if (keys.problems.AGE_RECIPIENTS) return keys.problems.AGE_RECIPIENTS;
    if (keys.ageRecipients.length > 0) {
      if (verify && keys.ageIdentities.length === 0) {
        return keys.problems.AGE_IDENTITY ?? 'backup-verify=true with backup-encryption=age and AGE_RECIPIENTS needs the plugin setting AGE_IDENTITY or AGE_IDENTITY_FILE to read archives back';
      }
      return undefined;
    }
    if (keys.agePassphrase) return undefined;
    return keys.problems.AGE_PASSPHRASE ?? 'backup-encryption=age needs the plugin setting AGE_RECIPIENTS, or AGE_PASSPHRASE or AGE_PASSPHRASE_FILE';
  }
  return undefined;
}
