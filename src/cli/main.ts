#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The host CLI. Only --version for now; the commands arrive with restore and verify. */
function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

const args = process.argv.slice(2);
if (args[0] === '--version' || args[0] === 'version') {
  console.log(`backupvol ${version()}`);
} else {
  console.error('usage: backupvol --version');
  process.exitCode = 2;
}
