import { loadArchiveKeys, secretValuesOf, type ArchiveKeys } from './archive-keys';
import { loadRemoteSettings, type RemoteSettings } from './target-settings';
import type { Env } from './settings';

export interface PluginSecrets {
  keys: ArchiveKeys;
  remote: RemoteSettings;
  /** The one list of values the log, the statuses and the notifications mask. */
  secrets: string[];
}

/**
 * The settings that hold secrets, each file read once, and the values to mask made from what was read:
 * a second reading could split or trim a value otherwise than the code that uses it, and leave part of
 * it unmasked. Webhook URLs are among the values: their path or query usually holds a token.
 */
export function loadPluginSecrets(env: Env, notifyUrls: readonly string[]): PluginSecrets {
  const keys = loadArchiveKeys(env);
  const remote = loadRemoteSettings(env);
  return { keys, remote, secrets: [...secretValuesOf(keys), ...remote.secrets, ...notifyUrls] };
}
