import winston from 'winston';

export type Logger = winston.Logger;

const LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * Logs go to stdout: for a managed plugin the engine copies them into its own log, tagged with the plugin id.
 */
export function createLogger(level: string): Logger {
  return winston.createLogger({
    level: LEVELS.includes(level) ? level : 'info',
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level: lvl, message, ...context }) => {
        const extra = Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
        return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
      }),
    ),
    transports: [new winston.transports.Console()],
  });
}

/** A logger that drops everything, for tests. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
