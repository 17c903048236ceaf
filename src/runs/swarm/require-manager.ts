import type { SwarmInfo } from '../../engine/docker-api';

/** Only a manager holds a swarm's definitions: anywhere else, say so and where to go instead. */
export function requireManager(info: SwarmInfo, command: string): void {
  if (!info.active) throw new Error(`${command} needs a Swarm manager: this node (${info.nodeName}) is not in a swarm`);
  if (!info.manager) {
    throw new Error(`${command} needs a Swarm manager: ${info.nodeName} is a worker node; run it on a manager (docker node ls shows them)`);
  }
}
