import type { Mounter } from '../../src/volumes/bind-mounter';

/** Records bind mounts instead of making them, so the registry can be tested without privileges. */
export class FakeMounter implements Mounter {
  readonly mounted = new Map<string, string>();
  readonly calls: string[] = [];

  async isMounted(source: string, target: string): Promise<boolean> {
    return this.mounted.get(target) === source;
  }

  async bind(source: string, target: string): Promise<void> {
    this.calls.push(`bind ${target}`);
    this.mounted.set(target, source);
  }

  async unbind(target: string): Promise<void> {
    this.calls.push(`unbind ${target}`);
    this.mounted.delete(target);
  }
}
