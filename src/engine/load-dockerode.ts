import type Docker from 'dockerode';
import { Module } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * dockerode, with the two parts of it the plugin never uses loaded only if they ever are: docker-modem's
 * SSH transport (it loads ssh2 at require time, 12 MiB) and dockerode's BuildKit session (gRPC and
 * protobuf, 6.5 MiB). The plugin talks to the engine over its unix socket and never builds an image, so
 * this is a fifth of its idle memory saved. Each part is a function called per use; a stand-in in the
 * module cache loads the real one at its first call and hands over to it.
 */
export function loadDockerode(): typeof Docker {
  const dockerodeMain = require.resolve('dockerode');
  const modemMain = require.resolve('docker-modem', { paths: [dirname(dockerodeMain)] });
  deferUntilCalled(join(dirname(modemMain), 'ssh.js'));
  deferUntilCalled(join(dirname(dockerodeMain), 'session.js'));
  return require('dockerode') as typeof Docker;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** For a module whose exports is one function: the module is read at the function's first call. */
function deferUntilCalled(filename: string): void {
  if (require.cache[filename]) return;
  let real: AnyFunction | undefined;
  const standIn: AnyFunction = function (this: unknown, ...args: unknown[]) {
    if (!real) {
      delete require.cache[filename];
      real = require(filename) as AnyFunction;
    }
    return real.apply(this, args);
  };
  const placeholder = new Module(filename);
  placeholder.filename = filename;
  placeholder.exports = standIn;
  placeholder.loaded = true;
  require.cache[filename] = placeholder;
}
