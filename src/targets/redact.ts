import { createRedactor } from '../logging/redact';

/**
 * Library errors can echo request URLs (with user:password@ in them) or, in rare cases, a header. Every
 * message a remote target lets out goes through here, so a secret never reaches a log, a status or the
 * CLI, whatever the library said.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return createRedactor(secrets)(text);
}

/** An Error whose message names the target and carries no secret. */
export function targetError(target: string, error: unknown, secrets: readonly (string | undefined)[]): Error {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const cleaned = redact(message, secrets);
  return new Error(cleaned.startsWith(`target ${target}:`) ? cleaned : `target ${target}: ${cleaned}`);
}
