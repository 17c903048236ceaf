import { spawn, type ChildProcess } from 'node:child_process';
import { waitForPort } from './free-port';

/**
 * Starts a server in the foreground and waits until it accepts connections on 127.0.0.1:port. Its
 * output is kept for the error when it exits early; stop() ends it (SIGTERM, then SIGKILL).
 */
export async function startServerProcess(command: string, args: string[], port: number): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = exited.then(() => {
    throw new Error(`${command} exited before it listened on ${port}: ${output.trim()}`);
  });
  try {
    await Promise.race([waitForPort(port), died]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  died.catch(() => undefined);
  return {
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
