import type { Duplex } from 'node:stream';
import type { Encryption } from '../vocabulary/volume-options';
import { ageDecryptStream, ageEncryptStream } from './age-stream';
import { missingKeySetting, type ArchiveKeys } from '../settings/archive-keys';
import { gpgDecryptStream, gpgEncryptStream } from './gpg-stream';

/** The encrypting stage of a backup's pipeline, or undefined for encryption none. Throws when keys are missing. */
export function encryptionStage(encryption: Encryption, keys: ArchiveKeys): Duplex | undefined {
  if (encryption === 'none') return undefined;
  const missing = missingKeySetting(encryption, keys);
  if (missing) throw new Error(missing);
  if (encryption === 'gpg') return gpgEncryptStream(keys.gpgPassphrase as string);
  return ageEncryptStream(keys.ageRecipients.length > 0 ? { recipients: keys.ageRecipients } : { passphrase: keys.agePassphrase as string });
}

/**
 * The decrypting stage of a restore or verify, or undefined for a plain archive. A missing or wrong key
 * fails with the settings that were tried, never their values.
 */
export function decryptionStage(encryption: string | undefined, keys: ArchiveKeys): Duplex | undefined {
  if (!encryption || encryption === 'none') return undefined;
  if (encryption === 'gpg') {
    if (!keys.gpgPassphrase) throw new Error(keys.problems.GPG_PASSPHRASE ?? 'the archive is encrypted with gpg: set GPG_PASSPHRASE or GPG_PASSPHRASE_FILE to read it');
    return gpgDecryptStream(keys.gpgPassphrase, explainWith('GPG_PASSPHRASE'));
  }
  if (encryption === 'age') {
    if (keys.ageIdentities.length === 0 && !keys.agePassphrase) {
      throw new Error(
        keys.problems.AGE_IDENTITY ??
          keys.problems.AGE_PASSPHRASE ??
          'the archive is encrypted with age: set AGE_IDENTITY or AGE_IDENTITY_FILE (recipient keys) or AGE_PASSPHRASE or AGE_PASSPHRASE_FILE to read it',
      );
    }
    const tried = [keys.ageIdentities.length > 0 ? 'AGE_IDENTITY' : '', keys.agePassphrase ? 'AGE_PASSPHRASE' : ''].filter(Boolean).join(' and ');
    return ageDecryptStream(keys.ageIdentities, keys.agePassphrase, explainWith(tried));
  }
  throw new Error(`the archive's encryption "${encryption}" is not one this version knows`);
}

/** The libraries' errors (e.g. "no identity matched any of the file's recipients") say what, not which setting. */
function explainWith(settings: string): (error: Error) => Error {
  return (error) => new Error(`cannot decrypt it with ${settings} (wrong key or damaged archive): ${error.message}`);
}
