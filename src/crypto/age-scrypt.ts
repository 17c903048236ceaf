import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { Identity, Recipient, Stanza } from 'age-encryption' with { 'resolution-mode': 'import' };

/**
 * age's passphrase (scrypt) recipient and identity, as the age spec defines them, with Node's scrypt.
 * Why not the library's own: its scrypt is synchronous JavaScript that holds the event loop for seconds at
 * age's work factor, and the plugin must keep answering the engine meanwhile; Node's runs on the threadpool.
 */
const LABEL = 'age-encryption.org/v1/scrypt';
/** age's default work factor (2^18 iterations, 256 MiB for the derivation). */
const WORK_FACTOR = 18;
/** Files asking for more are refused, as the library does: a hostile header must not cost minutes. */
const MAX_WORK_FACTOR = 20;
const FILE_KEY_BYTES = 16;
const TAG_BYTES = 16;

type StanzaClass = new (args: string[], body: Uint8Array) => Stanza;

export function scryptRecipient(passphrase: string, StanzaType: StanzaClass): Recipient {
  return {
    async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
      const salt = randomBytes(16);
      const key = await deriveKey(passphrase, salt, WORK_FACTOR);
      const cipher = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: TAG_BYTES });
      const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
      return [new StanzaType(['scrypt', salt.toString('base64').replace(/=+$/, ''), String(WORK_FACTOR)], body)];
    },
  };
}

export function scryptIdentity(passphrase: string): Identity {
  return {
    async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
      const stanza = stanzas.find((candidate) => candidate.args[0] === 'scrypt');
      if (!stanza) return null;
      // The spec: a passphrase file has exactly one stanza, so nobody else can open it.
      if (stanzas.length !== 1) throw new Error('scrypt recipient is not the only one in the header');
      const [, saltText, logNText] = stanza.args;
      const salt = Buffer.from(saltText ?? '', 'base64');
      if (stanza.args.length !== 3 || salt.length !== 16 || !/^[1-9][0-9]*$/.test(logNText ?? '')) throw new Error('invalid scrypt stanza');
      const logN = Number(logNText);
      if (logN > MAX_WORK_FACTOR) throw new Error('scrypt work factor is too high');
      if (stanza.body.length !== FILE_KEY_BYTES + TAG_BYTES) throw new Error('invalid scrypt stanza');
      const key = await deriveKey(passphrase, salt, logN);
      const decipher = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(stanza.body.subarray(FILE_KEY_BYTES));
      try {
        return Buffer.concat([decipher.update(stanza.body.subarray(0, FILE_KEY_BYTES)), decipher.final()]);
      } catch {
        // Another passphrase: not ours to open.
        return null;
      }
    },
  };
}

function deriveKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128 * r * N bytes; Node's default cap (32 MiB) is below age's work factor.
    scrypt(passphrase, Buffer.concat([Buffer.from(LABEL), salt]), 32, { N, r: 8, p: 1, maxmem: 129 * 8 * N + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
