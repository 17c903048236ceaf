import express, { type Request, type Response } from 'express';
import type { AdminService } from '../runs/admin-service';
import type { Progress, ProgressReport } from '../vocabulary/run-record';
import type { Logger } from '../shared/logger';

/** How often a long operation reports how far it got. */
const PROGRESS_INTERVAL_MS = 1_000;

type AdminHandler = (body: Record<string, unknown>, progress: Progress) => Promise<unknown>;

/**
 * The host CLI's endpoints on the plugin socket (the engine never calls them). Every answer is NDJSON:
 * `{"Progress":{...}}` lines while a long operation runs, then one `{"Result":...}` or `{"Err":"..."}`.
 * A backup or restore that ran and failed is a Result whose result is "failed": the CLI tells the two
 * apart (exit code 1 either way).
 */
export function createAdminRouter(admin: AdminService, logger: Logger): express.Router {
  const router = express.Router();
  const routes: Record<string, AdminHandler> = {
    '/BackupVol.List': async () => admin.list(),
    '/BackupVol.Backup': async (body, progress) => admin.backup(text(body, 'Volume'), progress),
    '/BackupVol.Backups': async (body) => admin.backups(text(body, 'Volume')),
    '/BackupVol.Restore': async (body, progress) =>
      admin.restore(text(body, 'Volume'), text(body, 'From', 'latest'), progress, body.Into === undefined ? undefined : text(body, 'Into')),
    '/BackupVol.Verify': async (body, progress) => admin.verify(text(body, 'Volume'), text(body, 'Archive', 'latest'), progress),
    '/BackupVol.Drill': async (body, progress) => admin.drill(text(body, 'Volume'), text(body, 'From', 'latest'), progress),
    '/BackupVol.SwarmExport': async () => admin.swarmExport(),
    '/BackupVol.SwarmRecreate': async (body) => admin.swarmRecreate(body.Definitions, body.DryRun === true),
  };
  for (const [route, handler] of Object.entries(routes)) {
    router.post(route, (req: Request, res: Response) => {
      const body = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
      res.status(200).type('application/x-ndjson');
      let latest: ProgressReport | undefined;
      let sent: ProgressReport | undefined;
      const ticker = setInterval(() => {
        if (latest && latest !== sent) res.write(`${JSON.stringify({ Progress: latest })}\n`);
        sent = latest;
      }, PROGRESS_INTERVAL_MS);
      logger.debug(route, { volume: body.Volume });
      handler(body, (report) => (latest = report))
        .then(
          (result) => res.end(`${JSON.stringify({ Result: result })}\n`),
          (error: Error) => {
            logger.warn(`${route} failed: ${error.message}`, { volume: body.Volume });
            res.end(`${JSON.stringify({ Err: error.message })}\n`);
          },
        )
        .finally(() => clearInterval(ticker));
    });
  }
  return router;
}

function text(body: Record<string, unknown>, key: string, fallback?: string): string {
  const value = body[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new Error(`request needs ${key} (a non-empty string)`);
  return value;
}
