import { createHmac } from 'node:crypto';

/**
 * Whether a server's host key (the raw public key blob ssh2 hands to hostVerifier) is listed for
 * host:port in known_hosts text (OpenSSH's format: plain, `[host]:port`, `*` patterns, hashed `|1|`
 * names, `!` negations). A host with no matching line at all is refused too: with known hosts given,
 * only listed keys are trusted.
 */
export function isKnownHostKey(knownHosts: string, host: string, port: number, key: Buffer): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const blob = key.toString('base64');
  for (const raw of knownHosts.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    // @revoked and @cert-authority lines are not host keys to trust.
    if (fields[0].startsWith('@')) continue;
    const [hosts, , keyText] = fields;
    if (keyText === blob && hostsMatch(hosts, name)) return true;
  }
  return false;
}

function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatch(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}
