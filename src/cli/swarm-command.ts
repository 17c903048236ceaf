import { readFile } from 'node:fs/promises';
import type { RecreatedObject, RecreateReport } from '../runs/swarm/recreate-definitions';
import { writeFileAtomically } from '../shared/atomic-file';
import { countDefinitions, type SwarmDefinitions } from '../vocabulary/swarm-definitions';
import { EXIT, print, UsageError, type Command, type Invocation } from './command';
import { callPlugin } from './plugin-client';

/** `backupvol swarm export [--out FILE]` and `backupvol swarm recreate FILE [--dry-run]`. */
export const SWARM_COMMAND: Command = {
  usage: 'backupvol swarm export [--out FILE] | backupvol swarm recreate FILE [--dry-run] [--json]',
  summary:
    "on a Swarm manager: write the swarm's services, networks, configs and secret names (no environment values, no secret data) " +
    'as JSON, or create from such a file what the swarm lacks',
  flags: ['out', 'dry-run'],
  positionals: { min: 1, max: 2 },
  async run(invocation) {
    const [verb, file] = invocation.positionals;
    if (verb === 'export') {
      if (file !== undefined || invocation.dryRun) throw new UsageError('swarm export takes no FILE and no --dry-run: give the file with --out FILE');
      return exportDefinitions(invocation);
    }
    if (verb === 'recreate') {
      if (file === undefined) throw new UsageError('swarm recreate needs the FILE that swarm export wrote');
      if (invocation.out !== undefined) throw new UsageError('swarm recreate takes no --out');
      return recreateDefinitions(invocation, file);
    }
    throw new UsageError(`unknown swarm command "${verb ?? ''}": use swarm export or swarm recreate`);
  },
};

async function exportDefinitions({ settings, out }: Invocation): Promise<number> {
  const document = (await callPlugin(settings, 'SwarmExport', {})) as SwarmDefinitions;
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  // Config data is in it: written readable by its owner only (writeFileAtomically makes files 0600).
  await writeFileAtomically(out, text);
  console.error(`Exported ${countDefinitions(document)} of the swarm (node ${document.node}) to ${out}`);
  return EXIT.ok;
}

async function recreateDefinitions({ settings, json, dryRun }: Invocation, file: string): Promise<number> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${file} as a swarm export: ${(error as Error).message}`);
  }
  const report = (await callPlugin(settings, 'SwarmRecreate', { Definitions: document, DryRun: dryRun })) as RecreateReport;
  print(json, report, () => describeReport(report));
  return report.complete ? EXIT.ok : EXIT.failed;
}

function describeReport(report: RecreateReport): string {
  const lines = report.objects.map(describeObject);
  const short = report.objects.filter((object) => object.outcome === 'missing' || object.outcome === 'not created' || object.outcome === 'failed');
  if (report.dryRun) lines.push('Dry run: nothing was created.');
  if (short.length > 0) lines.push(`Incomplete: ${short.map((object) => `${object.kind} ${object.name}`).join(', ')} (see above).`);
  return lines.join('\n');
}

function describeObject(object: RecreatedObject): string {
  const replicas = object.kind === 'service' && object.replicas !== undefined && object.outcome !== 'exists' ? ` (${object.replicas} replica${object.replicas === 1 ? '' : 's'})` : '';
  const lines = [`${object.outcome.padEnd(12)} ${object.kind} ${object.name}${replicas}${object.detail ? `: ${object.detail}` : ''}`];
  for (const what of object.notRestored ?? []) lines.push(`${''.padEnd(12)}   not restored: ${what}`);
  return lines.join('\n');
}
