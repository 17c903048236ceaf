import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntryGuard, normalizeEntryPath } from '../../src/archive/entry-guard';

describe('normalizeEntryPath', () => {
  it('keeps paths that are already normal and normalizes the others', () => {
    const cases: Array<[string, string]> = [
      ['a/b', 'a/b'],
      ['.hidden/x', '.hidden/x'],
      ['a/.hidden', 'a/.hidden'],
      ['a/b..c', 'a/b..c'],
      ['./a//b/', 'a/b'],
      ['a/./b', 'a/b'],
      ['./', ''],
      ['.', ''],
      ['', ''],
    ];
    for (const [path, normal] of cases) assert.equal(normalizeEntryPath(path, path), normal, path);
  });

  it("refuses '..' wherever it is, absolute paths and NUL bytes", () => {
    for (const path of ['..', '../a', 'a/..', 'a/../b', './..', 'a//../b', '/etc/passwd', 'a\0b']) {
      assert.throws(() => normalizeEntryPath(path, path), /climbs out|absolute path|NUL byte/, JSON.stringify(path));
    }
  });
});

describe('EntryGuard', () => {
  it('refuses an entry written through a symlink the archive made, and a relative symlink that climbs out', () => {
    const guard = new EntryGuard();
    guard.check({ path: 'dir', type: 'Directory' });
    guard.check({ path: 'dir/link', type: 'SymbolicLink', linkpath: '/etc' });
    assert.throws(() => guard.check({ path: 'dir/link/passwd', type: 'File' }), /goes through the symlink "dir\/link"/);
    assert.throws(() => guard.check({ path: 'dir/up', type: 'SymbolicLink', linkpath: '../../x' }), /outside the volume/);
    assert.equal(guard.check({ path: 'dir/ok', type: 'SymbolicLink', linkpath: '../x' }), 'dir/ok');
  });
});
