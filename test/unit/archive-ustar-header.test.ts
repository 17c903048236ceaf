import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Header } from 'tar/header';
import { encodeUstarHeader } from '../../src/archive/encode-ustar-header';
import type { TarEntryMeta } from '../../src/archive/tar-entry';

/** What node-tar writes for the same entry, with the fields TarBatcher gives it. */
function nodeTarBlock(meta: TarEntryMeta, path: string): Buffer {
  const block = Buffer.alloc(512);
  const needsPax = new Header({
    path,
    type: meta.type,
    mode: meta.mode & 0o7777,
    uid: meta.uid,
    gid: meta.gid,
    size: meta.size,
    mtime: meta.mtime,
    linkpath: meta.linkpath,
    uname: '',
    gname: '',
  }).encode(block, 0);
  assert.equal(needsPax, false);
  return block;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('encodeUstarHeader', () => {
  it('writes the same bytes as node-tar for ordinary entries', () => {
    const random = seeded(42);
    const types: TarEntryMeta['type'][] = ['File', 'Directory', 'SymbolicLink', 'Link', 'FIFO'];
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789._- /';
    for (let round = 0; round < 2000; round++) {
      const type = types[Math.floor(random() * types.length)];
      let path = '';
      const length = 1 + Math.floor(random() * 99);
      for (let index = 0; index < length; index++) path += alphabet[Math.floor(random() * alphabet.length)];
      const meta: TarEntryMeta = {
        path,
        type,
        mode: Math.floor(random() * 0o10000) | 0o100000,
        uid: random() < 0.5 ? 0 : Math.floor(random() * 0o7777777),
        gid: Math.floor(random() * 70000),
        size: type === 'File' ? Math.floor(random() ** 4 * 0o77777777777) : 0,
        mtime: new Date(Math.floor(random() * 4_000_000_000_000)),
        linkpath: type === 'SymbolicLink' || type === 'Link' ? 'target/'.repeat(1 + Math.floor(random() * 14)) : undefined,
      };
      const block = Buffer.alloc(512);
      assert.equal(encodeUstarHeader(block, meta, path), true);
      assert.deepEqual(block, nodeTarBlock(meta, path), `entry ${JSON.stringify(meta)}`);
    }
  });

  it('declines what ustar cannot hold, leaving the block untouched', () => {
    const base: TarEntryMeta = { path: 'a', type: 'File', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: new Date(0) };
    const cases: Array<[TarEntryMeta, string]> = [
      [base, 'x'.repeat(100)],
      [base, 'ünïcødé'],
      [base, 'new\nline'],
      [{ ...base, size: 8 * 1024 ** 3 }, 'big'],
      [{ ...base, uid: 0o10000000 }, 'uid'],
      [{ ...base, mtime: new Date(-1000) }, 'old'],
      [{ ...base, type: 'SymbolicLink', linkpath: 'l'.repeat(101) }, 'link'],
    ];
    for (const [meta, path] of cases) {
      const block = Buffer.alloc(512);
      assert.equal(encodeUstarHeader(block, meta, path), false, path);
      assert.ok(block.every((byte) => byte === 0));
    }
  });
});
