import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { startServerProcess } from './server-process';


export interface SftpTestServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A private key the server accepts for the user. */
  identityFile: string;
  /** A known_hosts line for this server's host key. */
  knownHosts: string;
  /** A folder the user may write to. */
  storeDir: string;
  /** A folder the user may read but not write. */
  readonlyDir: string;
  close(): Promise<void>;
}

/**
 * Debian's sshd with a config, host key and port of its own (the machine's sshd, if any, is untouched),
 * serving SFTP to one user with a password and a key. Needs root. `baseDir` is where its files go (a
 * place the plugin can read, for the e2e tests' identity file).
 */
export async function startSftpServer(baseDir: string = tmpdir()): Promise<SftpTestServer> {
  const dir = await mkdtemp(join(baseDir, 'backupvol-sshd-'));
  // sshd reads authorized_keys as the user: the folder must be open to it.
  await chmod(dir, 0o755);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'client_ed25519'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_ed25519.pub')), { mode: 0o644 });

  // A system user of this server's own (tests run as root), removed with it: test runs that overlap on
  // one machine must not change each other's password.
  const user = `bvsftp-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', user]);
  execFileSync('chpasswd', { input: `${user}:${password}\n` });
  const removeUser = () => execFileSync('userdel', [user], { stdio: 'ignore' });
  const uid = Number(execFileSync('id', ['-u', user]).toString());
  const gid = Number(execFileSync('id', ['-g', user]).toString());
  const storeDir = join(dir, 'store');
  const readonlyDir = join(dir, 'readonly');
  await mkdir(storeDir);
  await chown(storeDir, uid, gid);
  await mkdir(readonlyDir, { mode: 0o755 });
  // Privilege separation needs this folder, which only Debian's init script would create.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // A server that would not start leaves no folder behind.
  const sshd = await startServerProcess('/usr/sbin/sshd', ['-D', '-e', '-f', config], port).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    removeUser();
    throw error;
  });
  const [type, key] = (await readFile(join(dir, 'host_ed25519.pub'), 'utf8')).split(' ');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    identityFile: join(dir, 'client_ed25519'),
    knownHosts: `[127.0.0.1]:${port} ${type} ${key}`,
    storeDir,
    readonlyDir,
    close: async () => {
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
      removeUser();
    },
  };
}
