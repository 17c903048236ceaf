import { setTimeout as delay } from 'node:timers/promises';
import type { HostEngine } from '../engine/host-engine';
import { StopJournal } from '../engine/stop-journal';
import type { CliSettings } from '../settings/settings';
import { callPlugin, PluginDownError } from './plugin-client';

export interface RecoverOutcome {
  /** The plugin answered already: it brings back what its runs stopped by itself. */
  wasRunning: boolean;
  /** Volumes whose interrupted run had stopped something, and what of it is still down afterwards. */
  volumes: Array<{ volume: string; stillDown: string[] }>;
}

/** How long the plugin gets to answer after enable, and to replay its journal (its retries take ~15 s). */
const ANSWER_TIMEOUT_MS = 60_000;
const REPLAY_TIMEOUT_MS = 60_000;
const POLL_MS = 500;

/**
 * Brings a plugin that is down back (see plugin-down.ts), then waits until it has started what interrupted
 * runs stopped. The containers cannot be started without it: they mount its volumes, and the engine
 * refuses to mount a volume whose plugin is disabled. Does nothing while the plugin answers.
 */
export async function recoverPlugin(settings: CliSettings, engine: HostEngine): Promise<RecoverOutcome> {
  if (await pluginAnswers(settings)) return { wasRunning: true, volumes: [] };
  const journal = new StopJournal(settings.dataDir);
  const before = await journal.pending();
  // Enabled without a process: the engine must first be told it is not running.
  if (await engine.pluginEnabled(settings.plugin)) await engine.forceDisablePlugin(settings.plugin);
  await engine.enablePlugin(settings.plugin, ANSWER_TIMEOUT_MS / 1000);
  await until(() => pluginAnswers(settings), ANSWER_TIMEOUT_MS);
  await until(async () => (await journal.pending()).length === 0, REPLAY_TIMEOUT_MS);
  const left = new Map((await journal.pending()).map((entry) => [entry.volume, entry]));
  return {
    wasRunning: false,
    volumes: before.map(({ volume }) => {
      const entry = left.get(volume);
      return { volume, stillDown: [...(entry?.containers ?? []), ...(entry?.services ?? [])].map((object) => object.name) };
    }),
  };
}

async function pluginAnswers(settings: CliSettings): Promise<boolean> {
  try {
    await callPlugin(settings, 'List', {});
    return true;
  } catch (error) {
    if (error instanceof PluginDownError) return false;
    throw error;
  }
}

/** Polls `done` until it holds or `timeoutMs` passed; the caller reports what is left either way. */
async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) await delay(POLL_MS);
}
