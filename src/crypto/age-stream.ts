import type { Duplex } from 'node:stream';
import { scryptIdentity, scryptRecipient } from './age-scrypt';
import { WebStreamDuplex } from './web-stream-duplex';

/** Either recipients (public keys) or one passphrase: age cannot mix a passphrase with recipients. */
export type AgeEncryptKey = { recipients: string[] } | { passphrase: string };

/**
 * age encryption (what `age -d` opens) with age-encryption's streaming API: the payload is sealed in
 * 64 KiB chunks as it flows, so memory is flat.
 */
export function ageEncryptStream(key: AgeEncryptKey): Duplex {
  return new WebStreamDuplex(async (input) => {
    const age = await import('age-encryption');
    const encrypter = new age.Encrypter();
    // A recipient rather than setPassphrase: see age-scrypt.ts.
    if ('passphrase' in key) encrypter.addRecipient(scryptRecipient(key.passphrase, age.Stanza));
    else for (const recipient of key.recipients) encrypter.addRecipient(recipient);
    return encrypter.encrypt(input);
  });
}

/** Every identity and passphrase is tried; each 64 KiB chunk is authenticated before it is released. */
export function ageDecryptStream(identities: string[], passphrase: string | undefined, explain?: (error: Error) => Error): Duplex {
  return new WebStreamDuplex(async (input) => {
    const age = await import('age-encryption');
    const decrypter = new age.Decrypter();
    for (const identity of identities) decrypter.addIdentity(identity);
    if (passphrase) decrypter.addIdentity(scryptIdentity(passphrase));
    return decrypter.decrypt(input);
  }, explain);
}
