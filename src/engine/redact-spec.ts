import type { ObjectSpec } from './docker-api';
import { LABELS } from './plan-quiesce';

/**
 * Credentials that containers carry outside their environment, kept out of manifests (plain JSON beside
 * the archive, even for an encrypted volume), statuses and notifications. The environment is already
 * reduced to names (dockerode-api.ts); what remains are labels (an archive-pre of `mysqldump -pSECRET`),
 * commands and arguments (`--password=...`, `redis-server --requirepass X`, `postgres://u:p@host`),
 * volume driver options (`o=username=u,password=p`) and the output of a failed hook.
 *
 * The rule:
 * - label keys are always kept; values are kept for the plugin's own labels except the hooks (whose
 *   commands are where credentials are typed), and for other labels when neither the key names a secret
 *   nor the value looks like one (a long random token); otherwise the value becomes MASK;
 * - commands and arguments are kept word by word, masking what follows a secret-naming flag or key
 *   (`-pX`, `--password=X`, `--token X`, `PASSWORD=X`, `?token=X`), `user:pass@` in URLs, `-u user:pass`
 *   and `Bearer X`;
 * - every other string of the spec gets the same word-level masking.
 * Masking too much costs a line of a recreated stack; masking too little leaks a password into every
 * copy of the backup, so the rule leans to masking.
 */
export const MASK = '[redacted]';

/** Secret-naming words, anywhere in a name (MYSQL_ROOT_PASSWORD, dbPassword, aws_secret_access_key). */
const LONG_SECRET_WORD = /password|passwd|passphrase|secret|token|credential|api[-_]?key|access[-_]?key|private[-_]?key|requirepass|basic[-_]?auth|htpasswd/i;
/** Short ones only as a word of their own (MYSQL_PASS, --pass, auth=), so that "bypass" or "author" stay. */
const SHORT_SECRET_WORD = /(?<![a-z])(?:pass|pwd|pw|auth|key)(?![a-z])/i;

export function isSecretName(name: string): boolean {
  return LONG_SECRET_WORD.test(name) || SHORT_SECRET_WORD.test(name);
}

/** A value of its own that looks like a generated key or token: long, no spaces, mixed case and digits. */
function looksLikeToken(value: string): boolean {
  return /^[A-Za-z0-9+/_=.~-]{24,}$/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value);
}

const QUOTED_OR_WORD = `(?:"[^"]*"|'[^']*'|[^\\s&;,'"]+)`;
const TEXT_RULES: readonly [RegExp, (match: string, ...groups: string[]) => string][] = [
  // scheme://user:password@host
  [/(\/\/)[^/@\s:]*:[^/@\s]*@/g, (_m, slashes) => `${slashes}${MASK}@`],
  // Authorization: Bearer X / Basic X
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/g, (_m, scheme) => `${scheme} ${MASK}`],
  // mysql's -pSECRET (the password glued to the flag), also quoted: -p'SECRET'
  [/(^|[\s"'])-p(?:"[^"]*"|'[^']*'|[^\s"']+)/g, (_m, before) => `${before}-p${MASK}`],
  // curl's -u user:password / --user user:password
  [/(^|\s)(-u|--user)(\s+|=)(?:"[^"]*"|'[^']*'|\S*:\S+)/g, (_m, before, flag, space) => `${before}${flag}${space}${MASK}`],
  // NAME=VALUE, NAME: VALUE, --NAME=VALUE, ?name=value& where NAME names a secret
  [
    // `:` only as YAML or JSON write it (`key: v`, `"key":"v"`), so that `https://` is not a key and value.
    new RegExp(`([A-Za-z0-9_.-]+)(\\s*=\\s*|"?:\\s+|":)(${QUOTED_OR_WORD})`, 'g'),
    (match, name, separator) => (isSecretName(name) ? `${name}${separator}${MASK}` : match),
  ],
  // --password VALUE, -p VALUE (sshpass), --requirepass VALUE: a secret-naming flag, then its value
  [
    new RegExp(`(^|\\s)(--?[A-Za-z0-9_.-]+)(\\s+)(?!-)(${QUOTED_OR_WORD})`, 'g'),
    (match, before, flag, space) => (flag === '-p' || (flag.startsWith('--') && isSecretName(flag)) ? `${before}${flag}${space}${MASK}` : match),
  ],
];

/** Masks what looks like a credential in a free text: an argument, a shell command line, a hook's output. */
export function maskCredentials(text: string): string {
  return TEXT_RULES.reduce((masked, [pattern, replace]) => masked.replace(pattern, replace as (substring: string, ...args: string[]) => string), text);
}

/** An argument list: each word masked, and the word after a secret-naming flag (`--password`, `-p`) too. */
function maskArguments(args: readonly unknown[]): unknown[] {
  return args.map((arg, index) => {
    if (typeof arg !== 'string') return arg;
    const previous = args[index - 1];
    const flagBefore = typeof previous === 'string' && (previous === '-p' || (/^--?[A-Za-z]/.test(previous) && !previous.includes('=') && isSecretName(previous)));
    if (flagBefore && !arg.startsWith('-')) return MASK;
    return maskCredentials(arg);
  });
}

const OWN_LABELS_KEPT = new Set<string>([LABELS.stop, LABELS.stopNoRestart]);
const HOOK_LABELS = new Set<string>([LABELS.archivePre, LABELS.archivePost]);

/** Labels and key/value options: keys kept, values as the rule above says. */
function maskLabels(labels: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(labels).map(([key, value]) => {
      if (typeof value !== 'string') return [key, redactValue(value, 1)];
      if (HOOK_LABELS.has(key)) return [key, MASK];
      if (OWN_LABELS_KEPT.has(key) || key.startsWith('docker-volume-backup.')) return [key, value];
      if (isSecretName(key) || looksLikeToken(value)) return [key, MASK];
      return [key, maskCredentials(value)];
    }),
  );
}

const LABEL_KEYS = /^(labels|options|driveropts|driver_opts)$/i;
const ARGUMENT_KEYS = /^(cmd|entrypoint|command|args|healthcheck|test)$/i;

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return maskCredentials(value);
  if (depth > 12 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => {
      if (LABEL_KEYS.test(key) && item !== null && typeof item === 'object' && !Array.isArray(item)) return [key, maskLabels(item as Record<string, unknown>)];
      if (ARGUMENT_KEYS.test(key) && Array.isArray(item)) return [key, maskArguments(item)];
      // SecretName, SecretID: what a service's Swarm secrets are called, not their content, and needed to recreate it.
      if (typeof item === 'string' && isSecretName(key) && !/(Name|ID)$/.test(key)) return [key, MASK];
      return [key, redactValue(item, depth + 1)];
    }),
  );
}

/** The spec of a stopped container or scaled service as a manifest may keep it (see the rule above). */
export function redactSpec(spec: ObjectSpec): ObjectSpec {
  return redactValue(spec, 0) as ObjectSpec;
}
