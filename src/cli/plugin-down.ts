/**
 * What the CLI says when the plugin's socket does not answer. The engine restarts a managed plugin whose
 * process died, but not always: when the new process is killed before the engine's socket probe reaches
 * it, the engine gives up after ~12 s and marks the plugin disabled, with no event and no log line of the
 * plugin's own (moby's pluginPostStart). Containers that an interrupted backup stopped then wait for a
 * start that never comes, so the message says how to bring back both.
 */
export function describePluginDown(plugin: string, enabled: boolean | undefined, reason: string): string {
  const recover =
    'containers that an interrupted backup stopped stay stopped until it runs (they mount its volumes). ' +
    '`backupvol recover` starts it again and waits until it has started them';
  if (enabled === false) {
    return (
      `the ${plugin} plugin is disabled (${reason}). If nobody disabled it, the engine gave up restarting it after ` +
      `its process died; ${recover} (or: \`docker plugin enable ${plugin}\`).`
    );
  }
  return (
    `the ${plugin} plugin is enabled but not running (${reason}): its process died and the engine has not ` +
    `started it again; ${recover} (or: \`docker plugin disable -f ${plugin} && docker plugin enable ${plugin}\`).`
  );
}

/** Connection errors that mean no process listens on the socket (ENOENT: the engine removed it). */
export function isNobodyListening(code: string | undefined): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}
