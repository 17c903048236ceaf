import { format } from 'winston';

/** Values shorter than this are not masked: replacing every "ab" in every line would make logs unreadable. */
const MIN_SECRET_LENGTH = 4;
const MASK = '[redacted]';

/** Masks every occurrence of the given secret values in a text. */
export type Redactor = (text: string) => string;

export function createRedactor(secrets: readonly (string | undefined)[]): Redactor {
  // Longest first: a secret that contains another is masked whole.
  const values = [...new Set(secrets.filter((value): value is string => (value ?? '').length >= MIN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  // Library errors echo request URLs, sometimes with user:password@ in them, whatever the settings say.
  return (text) => values.reduce((masked, value) => masked.split(value).join(MASK), text.replace(/(\/\/)[^/@\s]*:[^/@\s]*@/g, `$1${MASK}@`));
}

/**
 * A winston format that masks secrets in the message and in every string of the metadata. A safeguard:
 * no code logs a secret on purpose, but an error message from a library or a target might echo one.
 */
export const redactFormat = format((info, options: unknown) => {
  const { redact } = options as { redact: Redactor };
  for (const key of Object.keys(info)) info[key] = redactValue(info[key], redact, 0);
  return info;
});

function redactValue(value: unknown, redact: Redactor, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return redact(value.stack ?? value.message);
  // Metadata is small and shallow; the depth bound guards against cycles.
  if (depth < 4 && Array.isArray(value)) return value.map((item) => redactValue(item, redact, depth + 1));
  if (depth < 4 && value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, redact, depth + 1)]));
  }
  return value;
}
