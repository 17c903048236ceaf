import type { Logger } from '../shared/logger';
import type { Redactor } from '../shared/redact';
import type { DrillRecord, RunRecord } from '../vocabulary/run-record';
import { summarizeDrill, summarizeRun, type DrillSummary, type RunSummary } from './run-summary';

/** A webhook that does not answer in this time is given up: a notification must never hold a run. */
const TIMEOUT_MS = 10_000;

/**
 * Fields whose values the plugin picks from a fixed set or makes itself (timestamps): no secret can be
 * in them, and masking one would break what receivers expect. Every other string is masked, so a field
 * added later is masked unless it is put here.
 */
const FIXED_FIELDS: ReadonlySet<string> = new Set<keyof RunSummary | keyof DrillSummary>(['event', 'result', 'trigger', 'startedAt', 'finishedAt', 'time']);

export interface NotifierOptions {
  /** NOTIFY_URLS: http(s) webhooks. */
  urls: readonly string[];
  /** NOTIFY_LEVEL: error = failed runs only, info = every run. */
  level: 'error' | 'info';
  logger: Logger;
  /** Masks secrets in what is sent (an error message could echo one). */
  redact?: Redactor;
  timeoutMs?: number;
}

/**
 * Posts a JSON summary of each backup run to every NOTIFY_URLS webhook. Never throws: a failed
 * notification is logged, naming only the webhook's scheme and host (its path and query often hold a
 * token), and the run's result stands.
 */
export class Notifier {
  private readonly urls: URL[] = [];

  constructor(private readonly options: NotifierOptions) {
    for (const [index, text] of options.urls.entries()) {
      const url = URL.canParse(text) ? new URL(text) : undefined;
      if (url && (url.protocol === 'http:' || url.protocol === 'https:')) this.urls.push(url);
      else options.logger.error(`NOTIFY_URLS entry ${index + 1} is not an http(s) URL; it is ignored`);
    }
  }

  /** Resolves once every webhook answered or failed. */
  async runFinished(volume: string, record: RunRecord): Promise<void> {
    if (this.urls.length === 0) return;
    if (this.options.level === 'error' && record.result === 'success') return;
    await this.send(summarizeRun(volume, record));
  }

  /** A failed drill notifies like a failed backup; NOTIFY_LEVEL=info sends every drill. */
  async drillFinished(volume: string, record: DrillRecord): Promise<void> {
    if (this.urls.length === 0) return;
    if (this.options.level === 'error' && record.result === 'ok') return;
    await this.send(summarizeDrill(volume, record));
  }

  private async send(summary: RunSummary | DrillSummary): Promise<void> {
    const body = JSON.stringify(this.masked(summary));
    await Promise.all(this.urls.map((url) => this.post(url, body)));
  }

  /**
   * Masks the fields one by one, before JSON.stringify: in the JSON text a secret holding `"` or `\` is
   * escaped and no longer matches, and a secret such as `true` or `null` would be masked in the syntax.
   */
  private masked<S extends RunSummary | DrillSummary>(summary: S): S {
    const { redact } = this.options;
    if (!redact) return summary;
    const fields = Object.entries(summary).map(([key, value]) => [key, typeof value === 'string' && !FIXED_FIELDS.has(key) ? redact(value) : value]);
    return Object.fromEntries(fields) as S;
  }

  private async post(url: URL, body: string): Promise<void> {
    const where = `${url.protocol}//${url.host}`;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? TIMEOUT_MS),
      });
      // Drained so the connection is released; the receiver's answer is not ours to log (it may echo the URL).
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      this.options.logger.error(`Notification to ${where} failed: ${describe(error)}`);
    }
  }
}

/** fetch's errors: "fetch failed" with the reason in cause; neither carries the URL's path. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no answer in time`;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
