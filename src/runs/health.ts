import type { RunState } from '../vocabulary/run-record';

export interface HealthDeps {
  /** Resolves when the Docker API answers (DockerApi.ping). */
  ping(): Promise<void>;
  volumes(): string[];
  state(volume: string): RunState;
  /** The targets whose settings are complete (TargetSet.usable). */
  targets(): readonly string[];
  now?(): number;
  /** Tests shorten the wait for a ping that never answers. */
  pingTimeoutMs?: number;
}

/** How one target fared the last time a backup run wrote to it. */
export interface TargetHealth {
  name: string;
  /** Whether the newest run that used it got its archive there; null when no run has used it yet. */
  ok: boolean | null;
  /** When that run finished. */
  at: string | null;
}

/** `/healthz`: the Docker API is what the plugin cannot work without; the targets are reported, not judged. */
export interface HealthReport {
  ok: boolean;
  docker: { ok: boolean; checkedAt: string };
  targets: TargetHealth[];
  volumes: number;
}

/** A ping younger than this is reused: a health check every second must not become an API call each. */
const PING_FRESH_MS = 5_000;
/** The Docker API answers a ping in milliseconds; a checker that waits longer than this has its answer. */
const PING_TIMEOUT_MS = 3_000;

/**
 * The plugin's health as it knows it. Targets are not contacted here: an S3 or SFTP round trip per probe
 * would cost more than the probe is worth, and a run (or its failure) already says whether each answered.
 */
export class HealthCheck {
  private lastPing: { ok: boolean; at: number } | undefined;
  private pinging: Promise<{ ok: boolean; at: number }> | undefined;

  constructor(private readonly deps: HealthDeps) {}

  async report(): Promise<HealthReport> {
    const docker = await this.docker();
    return {
      ok: docker.ok,
      docker: { ok: docker.ok, checkedAt: new Date(docker.at).toISOString() },
      targets: this.targets(),
      volumes: this.deps.volumes().length,
    };
  }

  private async docker(): Promise<{ ok: boolean; at: number }> {
    if (this.lastPing && this.now() - this.lastPing.at < PING_FRESH_MS) return this.lastPing;
    // Concurrent probes share one ping.
    this.pinging ??= this.ping().finally(() => (this.pinging = undefined));
    this.lastPing = await this.pinging;
    return this.lastPing;
  }

  private async ping(): Promise<{ ok: boolean; at: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), this.deps.pingTimeoutMs ?? PING_TIMEOUT_MS);
    });
    const ok = await Promise.race([this.deps.ping(), timedOut]).then(
      () => true,
      () => false,
    );
    clearTimeout(timer);
    return { ok, at: this.now() };
  }

  /** Per configured target, the newest outcome any volume's last run recorded for it. */
  private targets(): TargetHealth[] {
    const newest = new Map<string, TargetHealth>();
    for (const volume of this.deps.volumes()) {
      const run = this.deps.state(volume).lastRun;
      if (!run) continue;
      for (const outcome of run.targets ?? []) {
        const known = newest.get(outcome.name);
        if (known?.at && known.at >= run.finishedAt) continue;
        newest.set(outcome.name, { name: outcome.name, ok: outcome.result === 'success', at: run.finishedAt });
      }
    }
    return this.deps.targets().map((name) => newest.get(name) ?? { name, ok: null, at: null });
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}
