import winston from 'winston';
import { createRedactor, redactFormat, type Redactor } from './redact';

export type Logger = winston.Logger;

const LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * Logs go to stdout (or `transport`, for tests): for a managed plugin the engine copies them into its own
 * log, tagged with the plugin id. `redact` masks the secrets wherever they appear; it is the plugin's one
 * redaction, shared with the targets and the notifier (main.ts), so all three hide the same values.
 */
export function createLogger(level: string, redact: Redactor = createRedactor([]), transport?: winston.transport): Logger {
  return winston.createLogger({
    level: LEVELS.includes(level) ? level : 'info',
    format: winston.format.combine(
      redactFormat({ redact }),
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level: lvl, message, ...context }) => {
        const extra = Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
        return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
      }),
    ),
    transports: [transport ?? new winston.transports.Console()],
  });
}

/** A logger that drops everything, for tests. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
