import { docker } from './docker-cli';
import { eventually } from './eventually';

/** Puts this engine in a single-node swarm unless it is in one; true when this call created the swarm. */
export async function ensureSwarm(): Promise<boolean> {
  if ((await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim() === 'active') return false;
  await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  return true;
}

export async function leaveSwarm(): Promise<void> {
  await docker(['swarm', 'leave', '--force']);
}

/** The node name the plugin files archives under in Swarm mode. */
export async function nodeName(): Promise<string> {
  return (await docker(['info', '--format', '{{.Name}}'])).trim();
}

export async function desiredReplicas(service: string): Promise<number> {
  return Number((await docker(['service', 'inspect', '--format', '{{.Spec.Mode.Replicated.Replicas}}', service])).trim());
}

/** IDs of the running task containers of SERVICE on this node. */
export async function runningTasks(service: string): Promise<string[]> {
  const output = await docker(['ps', '--quiet', '--filter', `label=com.docker.swarm.service.name=${service}`]);
  return output.split('\n').filter(Boolean);
}

export async function waitForRunningTasks(service: string, count: number, timeoutMs = 90_000): Promise<string[]> {
  let tasks: string[] = [];
  await eventually(`${count} running task(s) of ${service}`, async () => {
    tasks = await runningTasks(service);
    return tasks.length === count;
  }, timeoutMs);
  return tasks;
}

export interface EngineEvent {
  timeNano: bigint;
  type: string;
  action: string;
  attributes: Record<string, string>;
}

/** Events matching FILTERS (`key=value`) between SINCE and UNTIL, in order. */
export async function engineEvents(filters: string[], since: Date, until: Date): Promise<EngineEvent[]> {
  const output = await docker([
    'events',
    '--since', (since.getTime() / 1000).toFixed(3),
    '--until', (until.getTime() / 1000).toFixed(3),
    ...filters.flatMap((filter) => ['--filter', filter]),
    '--format', '{{json .}}',
  ]);
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as { Type: string; Action: string; Actor: { Attributes?: Record<string, string> } };
      // Nanoseconds since 1970 exceed a double's precision: read them from the text.
      return { ...event, timeNano: BigInt(/"timeNano":(\d+)/.exec(line)?.[1] ?? '0') };
    })
    .map((event) => ({
      timeNano: event.timeNano,
      type: event.Type,
      action: event.Action,
      attributes: event.Actor.Attributes ?? {},
    }));
}

/** `update 2->0`-style lines for the service's scale changes, and die/start of its task containers, in order. */
export async function serviceStory(service: string, since: Date, until: Date): Promise<string[]> {
  const scales = await engineEvents(['type=service', `service=${service}`, 'event=update'], since, until);
  const tasks = await engineEvents(
    ['type=container', `label=com.docker.swarm.service.name=${service}`, 'event=die', 'event=start'],
    since,
    until,
  );
  return [...scales, ...tasks]
    .sort((a, b) => (a.timeNano < b.timeNano ? -1 : a.timeNano > b.timeNano ? 1 : 0))
    .map((event) =>
      event.type === 'service'
        ? `scale ${event.attributes['replicas.old']}->${event.attributes['replicas.new']}`
        : event.action,
    );
}
