import assert from 'node:assert/strict';
import { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { MultiUpload } from '../../src/runs/backup/multi-upload';
import { LocalTarget } from '../../src/targets/local-target';
import type { Target } from '../../src/targets/target';
import { makeTempDir } from '../helpers/temp-dir';

/** A target whose upload is a plain stream, as a remote one's is. */
function streamTarget(name: string): Target {
  return {
    name,
    beginUpload: async () => ({ kind: 'stream', stream: new PassThrough(), commit: async () => undefined, abort: async () => undefined }),
    writeManifest: async () => undefined,
    list: async () => [],
    remove: async () => undefined,
    open: async () => new PassThrough(),
    removeIncomplete: async () => [],
  };
}

describe('MultiUpload.output', () => {
  it('is the local file itself when it is the only upload, so the archive pipeline can skip its copies', async () => {
    const multi = await MultiUpload.prepare([new LocalTarget(join(await makeTempDir('multi'), 'archive'))], 'v', (text) => text);
    await multi.begin('v-20260101T000000Z.tar');
    assert.equal(multi.output.kind, 'local-file');
    assert.ok(multi.output.stream instanceof WriteStream);
    await multi.abortAll();
  });

  it('is the fan-out for a remote upload alone and for several targets', async () => {
    const alone = await MultiUpload.prepare([streamTarget('sftp')], 'v', (text) => text);
    await alone.begin('v-20260101T000000Z.tar');
    assert.equal(alone.output.kind, 'stream');
    assert.ok(!(alone.output.stream instanceof PassThrough), 'not the remote upload itself');
    const local = new LocalTarget(join(await makeTempDir('multi'), 'archive'));
    const both = await MultiUpload.prepare([local, streamTarget('s3')], 'v', (text) => text);
    await both.begin('v-20260101T000000Z.tar');
    assert.equal(both.output.kind, 'stream');
    assert.ok(!(both.output.stream instanceof WriteStream));
    await both.abortAll();
  });
});
