import type { Duplex } from 'node:stream';
import { WebStreamDuplex } from './web-stream-duplex';

/**
 * OpenPGP symmetric encryption (what `gpg --symmetric` makes and `gpg -d` opens) with openpgp's streaming
 * API. No OpenPGP compression: the archive is compressed already.
 */
export function gpgEncryptStream(passphrase: string): Duplex {
  return new WebStreamDuplex(async (input) => {
    const openpgp = await import('openpgp');
    const message = await openpgp.createMessage({ binary: input, format: 'binary' });
    return (await openpgp.encrypt({ message, passwords: [passphrase], format: 'binary' })) as ReadableStream<Uint8Array>;
  });
}

/**
 * The reverse. allowUnauthenticatedStream: without it openpgp buffers the whole message to check its
 * integrity (MDC) before releasing a byte; here plaintext goes only into a staging folder (restore) or a
 * listing (verify), and a bad MDC at the end fails the stream, so the staged tree is thrown away.
 */
export function gpgDecryptStream(passphrase: string, explain?: (error: Error) => Error): Duplex {
  return new WebStreamDuplex(async (input) => {
    const openpgp = await import('openpgp');
    const message = await openpgp.readMessage({ binaryMessage: input });
    const { data } = await openpgp.decrypt({
      message,
      passwords: [passphrase],
      format: 'binary',
      config: { allowUnauthenticatedStream: true },
    });
    return data as ReadableStream<Uint8Array>;
  }, explain);
}
