import type { RetentionPolicy } from '../vocabulary/retention-policy';
import { parseRestoreSource } from '../vocabulary/restore-source';
import { parseRetention } from './retention-option';
import { parseCronSchedule } from '../shared/cron-schedule';
import { DURATION_FORMS, parseDuration } from '../shared/duration';
import type { Compression, Encryption, FullEvery, SnapshotMode, StopPolicy, TargetName, VolumeOptions } from '../vocabulary/volume-options';

/** Plugin settings that supply an option's value when the volume does not set it. */
export interface OptionDefaults {
  schedule: string;
  retention: string;
  encryption: string;
  /** DEFAULT_FULL_EVERY; `1` (every archive full) when not given. */
  fullEvery?: string;
  /**
   * Why the plugin's key settings cannot serve this encryption (naming the setting to set), or undefined
   * when they can (settings/archive-keys.ts missingKeySetting). Without it, gpg and age are refused.
   */
  missingKeySetting?: (encryption: Encryption, verify: boolean) => string | undefined;
}

const COMPRESSIONS: readonly Compression[] = ['gzip', 'zstd', 'none'];
const ENCRYPTIONS: readonly Encryption[] = ['none', 'gpg', 'age'];
const TARGETS: readonly TargetName[] = ['local', 's3', 'sftp', 'webdav'];
const STOP_POLICIES: readonly StopPolicy[] = ['attached', 'labelled', 'none'];
const SNAPSHOT_MODES: readonly SnapshotMode[] = ['sync', 'copy', 'direct'];

export const OPTION_KEYS = [
  'backup-schedule',
  'backup-retention',
  'backup-target',
  'backup-compression',
  'backup-encryption',
  'backup-stop',
  'backup-stop-label',
  'backup-snapshot',
  'backup-exclude',
  'backup-jitter',
  'backup-full-every',
  'restore-from',
  'backup-verify',
  'backup-drill',
] as const;

type OptionKey = (typeof OPTION_KEYS)[number];

/** Validates the options of `docker volume create` and fills in defaults; a refusal names the option. */
export function parseVolumeOptions(raw: Record<string, string>, defaults: OptionDefaults): VolumeOptions {
  for (const key of Object.keys(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new Error(`unknown option "${key}": accepted options are ${OPTION_KEYS.join(', ')}`);
    }
  }
  const read = (key: OptionKey, fallback: string, setting?: string): OptionValue => {
    const given = raw[key];
    return given === undefined
      ? { key, text: fallback.trim(), source: setting ? ` (from plugin setting ${setting})` : '' }
      : { key, text: given.trim(), source: '' };
  };
  const options: VolumeOptions = {
    schedule: parseSchedule(read('backup-schedule', defaults.schedule, 'DEFAULT_SCHEDULE')),
    retention: parseRetentionOption(read('backup-retention', defaults.retention, 'DEFAULT_RETENTION')),
    targets: parseTargets(read('backup-target', 'local')),
    compression: oneOf(read('backup-compression', 'gzip'), COMPRESSIONS),
    encryption: oneOf(read('backup-encryption', defaults.encryption, 'DEFAULT_ENCRYPTION'), ENCRYPTIONS),
    stop: oneOf(read('backup-stop', 'attached'), STOP_POLICIES),
    stopLabel: parseStopLabel(read('backup-stop-label', 'true')),
    snapshot: oneOf(read('backup-snapshot', 'sync'), SNAPSHOT_MODES),
    exclude: parseExclude(read('backup-exclude', '')),
    jitterMs: parseJitter(read('backup-jitter', '0s')),
    fullEvery: parseFullEvery(read('backup-full-every', defaults.fullEvery ?? '1', 'DEFAULT_FULL_EVERY')),
    restoreFrom: parseRestoreFrom(read('restore-from', '')),
    verify: oneOf(read('backup-verify', 'false'), ['true', 'false'] as const) === 'true',
    drill: parseSchedule(read('backup-drill', 'none')),
  };
  rejectMissingKeys(raw, options, defaults);
  return options;
}

/** A volume that asks for encryption the settings cannot provide fails at create, not at its first run. */
function rejectMissingKeys(raw: Record<string, string>, options: VolumeOptions, defaults: OptionDefaults): void {
  if (options.encryption === 'none') return;
  const origin = raw['backup-encryption'] === undefined ? ' (from plugin setting DEFAULT_ENCRYPTION)' : '';
  const missing = defaults.missingKeySetting
    ? defaults.missingKeySetting(options.encryption, options.verify)
    : 'no key settings are available';
  if (missing) throw new Error(`backup-encryption=${options.encryption}${origin}: ${missing}`);
}

interface OptionValue {
  key: OptionKey;
  text: string;
  /** Where a defaulted value came from, for the error message. */
  source: string;
}

function invalid(value: OptionValue, accepted: string): Error {
  return new Error(`invalid ${value.key}=${JSON.stringify(value.text)}${value.source}: ${accepted}`);
}

function oneOf<T extends string>(value: OptionValue, accepted: readonly T[]): T {
  if (!(accepted as readonly string[]).includes(value.text)) {
    throw invalid(value, `accepted values are ${accepted.join(', ')}`);
  }
  return value.text as T;
}

function parseSchedule(value: OptionValue): string | null {
  try {
    return parseCronSchedule(value.text);
  } catch (error) {
    throw invalid(value, (error as Error).message);
  }
}

function parseRetentionOption(value: OptionValue): RetentionPolicy {
  try {
    return parseRetention(value.text);
  } catch (error) {
    throw invalid(value, (error as Error).message);
  }
}

function parseTargets(value: OptionValue): TargetName[] {
  const names = value.text.split(',').map((name) => name.trim());
  const accepted = `a comma list of ${TARGETS.join(', ')}`;
  for (const name of names) {
    if (!(TARGETS as readonly string[]).includes(name)) throw invalid(value, accepted);
  }
  if (new Set(names).size !== names.length) throw invalid(value, `${accepted}, each at most once`);
  return names as TargetName[];
}

function parseStopLabel(value: OptionValue): string {
  if (!/^[^\s,=]{1,128}$/.test(value.text)) {
    throw invalid(value, 'a label value of 1-128 characters without spaces, commas or "="');
  }
  return value.text;
}

function parseExclude(value: OptionValue): string[] {
  if (value.text === '') return [];
  const globs = value.text.split(',').map((glob) => glob.trim());
  for (const glob of globs) {
    const escapes = glob === '' || glob.startsWith('/') || glob.split('/').includes('..');
    if (escapes) throw invalid(value, 'a comma list of globs relative to the volume root (no leading "/", no "..")');
  }
  return globs;
}

function parseJitter(value: OptionValue): number {
  const ms = parseDuration(value.text);
  if (ms === undefined) throw invalid(value, DURATION_FORMS);
  return ms;
}

const FULL_EVERY_FORMS =
  'a whole number of archives per chain from 1 (1: every archive full; 7: a full archive, then 6 incrementals), ' +
  `or the age of a chain's full archive at which the next run is full again: ${DURATION_FORMS}`;

function parseFullEvery(value: OptionValue): FullEvery {
  if (/^\d+$/.test(value.text)) {
    const count = Number(value.text);
    if (!Number.isSafeInteger(count) || count < 1) throw invalid(value, FULL_EVERY_FORMS);
    return { count };
  }
  const maxAgeMs = parseDuration(value.text);
  if (maxAgeMs === undefined || maxAgeMs <= 0 || !Number.isSafeInteger(maxAgeMs)) throw invalid(value, FULL_EVERY_FORMS);
  return { maxAgeMs };
}

/** `VOLUME@latest` or an archive name as the contract spells it (the same parser as the CLI's --from). */
function parseRestoreFrom(value: OptionValue): string | null {
  if (value.text === '') return null;
  try {
    parseRestoreSource(value.text);
  } catch {
    throw invalid(value, 'VOLUME@latest or an archive name such as VOLUME-20260101T030000Z.tar.gz');
  }
  return value.text;
}
