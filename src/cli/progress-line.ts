import type { ProgressReport } from '../vocabulary/run-record';
import { formatBytes } from '../shared/format';

/**
 * One line on stderr, rewritten in place while an operation runs, and only when stderr is a terminal:
 * piped output and --json stay clean.
 */
export class ProgressLine {
  private readonly enabled = process.stderr.isTTY === true;
  private readonly startedAt = Date.now();
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private last: ProgressReport | undefined;

  constructor(private readonly label: string) {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.render(), 1_000);
    this.timer.unref();
  }

  update = (report: ProgressReport): void => {
    this.last = report;
    this.render();
  };

  done(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) process.stderr.write('\r\x1b[K');
  }

  private render(): void {
    if (!this.enabled) return;
    const seconds = Math.round((Date.now() - this.startedAt) / 1_000);
    const report = this.last;
    let detail = report?.phase ?? '';
    if (report?.bytes !== undefined && report.totalBytes) {
      const percent = Math.min(100, Math.floor((report.bytes / report.totalBytes) * 100));
      detail += ` ${report.archive ?? ''} ${percent}% (${formatBytes(report.bytes)} of ${formatBytes(report.totalBytes)})`;
    }
    if (report?.etaSeconds !== undefined) detail += `, ETA ${report.etaSeconds} s`;
    process.stderr.write(`\r\x1b[K${this.label}... ${seconds}s ${detail}`.trimEnd());
    this.shown = true;
  }
}
