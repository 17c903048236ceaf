import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { createExcludeMatcher } from '../../src/vocabulary/exclude-matcher';
import { makeTempDir } from '../helpers/temp-dir';
import { archiveToFile, systemTarList } from './archive-fixtures';

describe('createExcludeMatcher', () => {
  it('matches a pattern without a slash at any depth, and anchors one with a slash at the root', () => {
    const excluded = createExcludeMatcher(['*.log', 'data/tmp', 'cache/', '.cache']);
    assert.ok(excluded('app.log', false));
    assert.ok(excluded('deep/down/app.log', false));
    assert.ok(excluded('data/tmp', true));
    assert.ok(!excluded('other/data/tmp', true), 'anchored at the volume root');
    assert.ok(excluded('cache', true));
    assert.ok(excluded('x/cache', true));
    assert.ok(!excluded('x/cache', false), 'a trailing slash matches directories only');
    assert.ok(excluded('home/.cache', true), 'dotfiles are not special');
    assert.ok(!excluded('app.log.txt', false));
  });

  it('supports ** and ./ prefixes', () => {
    const excluded = createExcludeMatcher(['./logs/**/*.gz']);
    assert.ok(excluded('logs/2024/01/a.gz', false));
    assert.ok(excluded('logs/a.gz', false));
    assert.ok(!excluded('other/logs/a.gz', false));
  });

  it('excludes nothing without patterns', () => {
    assert.ok(!createExcludeMatcher([])('anything', false));
  });
});

describe('createArchive with exclude globs', () => {
  it('leaves out matching files and everything below a matching directory', async () => {
    const dir = await makeTempDir('archive-exclude');
    const source = join(dir, 'volume');
    const files = ['keep.txt', 'app.log', 'logs/old.log', 'logs/readme.md', 'cache/blob', 'data/cache', 'data/tmp/scratch', 'tmp/keep'];
    for (const file of files) {
      await mkdir(dirname(join(source, file)), { recursive: true });
      await writeFile(join(source, file), file);
    }
    const archive = join(dir, 'volume.tar');
    const result = await archiveToFile(source, archive, 'none', ['*.log', 'cache/', 'data/tmp']);
    assert.deepEqual(systemTarList(archive, 'none').sort(), [
      './',
      'data/',
      'data/cache',
      'keep.txt',
      'logs/',
      'logs/readme.md',
      'tmp/',
      'tmp/keep',
    ]);
    assert.equal(result.fileCount, 4);
  });
});
