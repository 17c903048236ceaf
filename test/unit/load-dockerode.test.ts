import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDockerode } from '../../src/engine/load-dockerode';

const loaded = (pattern: RegExp): boolean => Object.keys(require.cache).some((path) => pattern.test(path));

describe('loadDockerode', () => {
  it('leaves the SSH transport and the BuildKit session unloaded until one is used, then hands over to it', () => {
    const Docker = loadDockerode();
    assert.equal(typeof new Docker({ socketPath: '/nonexistent.sock' }).getContainer, 'function');
    assert.equal(loaded(/node_modules\/ssh2\//), false, 'ssh2 is not loaded');
    assert.equal(loaded(/node_modules\/@grpc\//), false, 'gRPC is not loaded');

    const modemDir = dirname(require.resolve('docker-modem', { paths: [dirname(require.resolve('dockerode'))] }));
    const ssh = require(join(modemDir, 'ssh.js')) as (options: object) => Agent;
    const agent = ssh({ host: '127.0.0.1' });
    assert.ok(agent instanceof Agent, 'the real transport answered the call');
    assert.equal(loaded(/node_modules\/ssh2\//), true, 'ssh2 is loaded at its first use');
    agent.destroy();
  });
});
