import express, { type Request, type Response } from 'express';
import type { Logger } from '../shared/logger';
import type { VolumeDriver } from '../volumes/volume-driver';

type Handler = (body: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * The plugin protocol over HTTP: decode the body, call one driver method, encode the result or `{Err}`.
 * The engine sets Accept but no Content-Type, so every body is parsed as JSON whatever it claims to be.
 */
export function createProtocolApp(driver: VolumeDriver, logger: Logger, admin?: express.Router): express.Express {
  const app = express();
  // A swarm export holds every config's data (up to 500 KiB each) and comes back for recreate.
  app.use('/BackupVol.SwarmRecreate', express.json({ type: () => true, limit: '256mb' }));
  app.use(express.json({ type: () => true, limit: '1mb' }));

  const routes: Record<string, Handler> = {
    '/Plugin.Activate': async () => ({ Implements: ['VolumeDriver'] }),
    '/VolumeDriver.Capabilities': async () => ({ Capabilities: { Scope: 'local' } }),
    '/VolumeDriver.Create': async (body) => {
      await driver.create(name(body), options(body));
      return {};
    },
    '/VolumeDriver.Remove': async (body) => {
      await driver.remove(name(body));
      return {};
    },
    '/VolumeDriver.Mount': async (body) => ({ Mountpoint: await driver.mount(name(body), mountId(body)) }),
    '/VolumeDriver.Unmount': async (body) => {
      await driver.unmount(name(body), mountId(body));
      return {};
    },
    '/VolumeDriver.Path': async (body) => ({ Mountpoint: await driver.path(name(body)) }),
    '/VolumeDriver.Get': async (body) => ({ Volume: await driver.get(name(body)) }),
    '/VolumeDriver.List': async () => ({ Volumes: await driver.list() }),
  };

  for (const [route, handler] of Object.entries(routes)) {
    app.post(route, (req: Request, res: Response) => {
      const body = isObject(req.body) ? req.body : {};
      logger.debug(`${route}`, { name: body.Name, id: body.ID });
      handler(body).then(
        (result) => res.json(result),
        (error: Error) => {
          logger.warn(`${route} failed: ${error.message}`, { name: body.Name });
          res.status(500).json({ Err: error.message });
        },
      );
    });
  }

  if (admin) app.use(admin);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ Err: `unknown route ${req.method} ${req.path}` });
  });
  // Four arguments mark this as express's error handler (a body that is not JSON lands here).
  app.use((error: Error, _req: Request, res: Response, _next: express.NextFunction) => {
    res.status(400).json({ Err: `bad request: ${error.message}` });
  });
  return app;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function name(body: Record<string, unknown>): string {
  if (typeof body.Name !== 'string' || body.Name === '') throw new Error('request has no volume Name');
  return body.Name;
}

function mountId(body: Record<string, unknown>): string {
  if (typeof body.ID !== 'string' || body.ID === '') throw new Error('request has no mount ID');
  return body.ID;
}

function options(body: Record<string, unknown>): Record<string, string> {
  if (body.Opts === undefined || body.Opts === null) return {};
  if (!isObject(body.Opts)) throw new Error('Opts must be an object of strings');
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(body.Opts)) {
    if (typeof value !== 'string') throw new Error(`option ${key} must be a string`);
    result[key] = value;
  }
  return result;
}
