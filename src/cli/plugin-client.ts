import { request } from 'node:http';
import type { CliSettings } from '../settings/settings';
import type { ProgressReport } from '../vocabulary/run-record';
import { describePluginDown, isNobodyListening } from './plugin-down';

/** No process listens on the plugin's socket. */
export class PluginDownError extends Error {}

/**
 * Calls one admin endpoint on the plugin's socket and returns its Result, reporting Progress lines as
 * they come (see plugin/admin-routes.ts for the NDJSON answer).
 */
export function callPlugin(settings: CliSettings, route: string, body: Record<string, unknown>, onProgress?: (report: ProgressReport) => void): Promise<unknown> {
  const socketPath = settings.socket;
  return new Promise((resolve, reject) => {
    const call = request({ socketPath, path: `/BackupVol.${route}`, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (response) => {
      let pending = '';
      let settled = false;
      const handle = (line: string) => {
        if (line.trim() === '') return;
        const message = JSON.parse(line) as { Progress?: ProgressReport; Result?: unknown; Err?: string };
        if (message.Progress) onProgress?.(message.Progress);
        else if (message.Err !== undefined) {
          settled = true;
          // The plugin's refusal (bad request, unknown volume, busy volume...), word for word.
          reject(new Error(message.Err));
        } else if ('Result' in message) {
          settled = true;
          resolve(message.Result);
        }
      };
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(handle);
      });
      response.on('end', () => {
        handle(pending);
        if (!settled) reject(new Error(`the plugin ended the answer to ${route} without a result (HTTP ${response.statusCode})`));
      });
      response.on('error', reject);
    });
    call.on('error', (error: NodeJS.ErrnoException) => {
      const reason = `no answer on ${socketPath}: ${error.code ?? error.message}`;
      if (isNobodyListening(error.code)) {
        reject(new PluginDownError(describePluginDown(settings.plugin, settings.pluginEnabled, reason)));
      } else {
        reject(new Error(`cannot reach the backupvol plugin (${reason}): is it installed and enabled? (docker plugin ls)`));
      }
    });
    call.end(JSON.stringify(body));
  });
}
