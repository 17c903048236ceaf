import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger } from '../../src/shared/logger';
import { createRedactor } from '../../src/shared/redact';

/** A debug-level logger with the plugin's format (and its masking of `secrets`) whose output lands in `lines`. */
export function capturingLogger(secrets: readonly string[] = []): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { logger: createLogger('debug', createRedactor(secrets), new winston.transports.Stream({ stream })), lines };
}
