#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HostEngine } from '../engine/host-engine';
import { loadCliSettings } from '../settings/settings';
import { EXIT, UsageError, type Command } from './command';
import { COMMANDS } from './commands';

/**
 * The host CLI (bin/backupvol runs it with the Node of the plugin's rootfs). It talks to the running
 * plugin over its socket; see `backupvol --help`.
 */
function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function overview(): string {
  const lines = Object.values(COMMANDS).map((command) => `  ${command.usage}\n      ${command.summary}`);
  return [
    'usage: backupvol COMMAND [ARGS]',
    '',
    'Commands:',
    ...lines,
    '',
    '  backupvol --version',
    '',
    'Every command takes --help. Exit codes: 0 done, 1 the operation failed, 2 wrong usage.',
  ].join('\n');
}

function help(command: Command): string {
  return `usage: ${command.usage}\n\n${command.summary}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === 'version') {
    console.log(`backupvol ${version()}`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${overview()}`);

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...(command.flags.includes('from') ? { from: { type: 'string' as const } } : {}),
        ...(command.flags.includes('into') ? { into: { type: 'string' as const } } : {}),
        ...(command.flags.includes('all') ? { all: { type: 'boolean' as const } } : {}),
        ...(command.flags.includes('out') ? { out: { type: 'string' as const } } : {}),
        ...(command.flags.includes('dry-run') ? { 'dry-run': { type: 'boolean' as const } } : {}),
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help(command)}`);
  }
  if (parsed.values.help) {
    console.log(help(command));
    return EXIT.ok;
  }
  const { min, max } = command.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new UsageError(`wrong number of arguments\n\n${help(command)}`);
  }
  const values = parsed.values as { json?: boolean; from?: string; into?: string; all?: boolean; out?: string; 'dry-run'?: boolean };
  return command.run({
    positionals: parsed.positionals,
    json: values.json === true,
    from: values.from,
    into: values.into,
    all: values.all === true,
    out: values.out,
    dryRun: values['dry-run'] === true,
    settings: loadCliSettings(),
    engine: new HostEngine(),
  });
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(`backupvol: ${error.message}`);
    process.exitCode = error instanceof UsageError ? EXIT.usage : EXIT.failed;
  },
);
