import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { startServerProcess } from './server-process';

const MODULES = '/usr/lib/apache2/modules';

export interface WebdavTestServer {
  url: string;
  username: string;
  password: string;
  /** The folder served at url. */
  root: string;
  close(): Promise<void>;
}

/**
 * Debian's apache2 with mod_dav, a config of its own and basic auth, on its own port (the machine's
 * apache, if any, is untouched).
 */
export async function startWebdavServer(): Promise<WebdavTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'backupvol-apache-'));
  await chmod(dir, 0o755);
  const root = join(dir, 'dav');
  await mkdir(root);
  const username = 'backupvol';
  const password = randomBytes(12).toString('base64url');
  const sha = createHash('sha1').update(password).digest('base64');
  await writeFile(join(dir, 'htpasswd'), `${username}:{SHA}${sha}\n`, { mode: 0o644 });
  // Started as root, apache serves as www-data: the DAV folder and lock database must be its own.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'www-data']).toString());
    const gid = Number(execFileSync('id', ['-g', 'www-data']).toString());
    await chown(root, uid, gid);
    await mkdir(join(dir, 'lock'));
    await chown(join(dir, 'lock'), uid, gid);
  } else {
    await mkdir(join(dir, 'lock'));
  }
  const port = await freePort();
  const modules = ['mpm_event', 'authz_core', 'authn_core', 'authn_file', 'auth_basic', 'authz_user', 'dav', 'dav_fs'];
  const config = join(dir, 'apache2.conf');
  await writeFile(
    config,
    [
      `ServerRoot ${dir}`,
      'ServerName 127.0.0.1',
      `Listen 127.0.0.1:${port}`,
      `PidFile ${join(dir, 'httpd.pid')}`,
      `DefaultRuntimeDir ${dir}`,
      `ErrorLog ${join(dir, 'error.log')}`,
      'LogLevel warn',
      ...modules.map((module) => `LoadModule ${module}_module ${MODULES}/mod_${module}.so`),
      ...(asRoot ? ['User www-data', 'Group www-data'] : []),
      `DavLockDB ${join(dir, 'lock', 'davlock')}`,
      `DocumentRoot ${root}`,
      `<Directory ${root}>`,
      '  Dav On',
      '  AuthType Basic',
      '  AuthName backupvol',
      `  AuthUserFile ${join(dir, 'htpasswd')}`,
      '  Require valid-user',
      '</Directory>',
      '',
    ].join('\n'),
  );
  // A server that would not start leaves no folder behind.
  const apache = await startServerProcess('/usr/sbin/apache2', ['-f', config, '-DFOREGROUND'], port).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    username,
    password,
    root,
    close: async () => {
      await apache.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
