import type { Redactor } from '../shared/redact';

/**
 * An Error whose message names the target and carries no secret. Library errors can echo request URLs
 * (with user:password@ in them) or, in rare cases, a header: every message a remote target lets out goes
 * through here, so a secret never reaches a log, a status or the CLI, whatever the library said.
 */
export function targetError(target: string, error: unknown, redact: Redactor): Error {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const cleaned = redact(message);
  return new Error(cleaned.startsWith(`target ${target}:`) ? cleaned : `target ${target}: ${cleaned}`);
}
