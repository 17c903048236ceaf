import type Docker from 'dockerode';
import { loadDockerode } from './load-dockerode';

/**
 * What the host CLI asks of the engine itself: the volumes that `restore --into` makes (and removes again
 * when the restore fails), and the plugin that `recover` brings back.
 */
export class HostEngine {
  private client: Docker | undefined;

  /**
   * Made at the first call, and dockerode loaded only then: loading it is about 130 ms, two thirds of the
   * CLI's start, and most commands talk to the plugin alone.
   */
  private get docker(): Docker {
    this.client ??= new (loadDockerode())();
    return this.client;
  }

  /** An answer other than the volume (none by that name, an engine that fails) counts as no volume. */
  async volumeExists(name: string): Promise<boolean> {
    const inspected = await this.docker
      .getVolume(name)
      .inspect()
      .catch(() => undefined);
    return inspected !== undefined;
  }

  async createVolume(name: string, driver: string): Promise<void> {
    await this.docker.createVolume({ Name: name, Driver: driver });
  }

  /** Best effort: a volume that is gone already, or that the engine will not remove, is left as it is. */
  async removeVolume(name: string): Promise<void> {
    await this.docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }

  async pluginEnabled(plugin: string): Promise<boolean> {
    const { Enabled: enabled } = (await this.docker.getPlugin(plugin, plugin).inspect()) as { Enabled: boolean };
    return enabled;
  }

  /** Forced: a plugin whose volumes exist cannot be disabled otherwise. */
  async forceDisablePlugin(plugin: string): Promise<void> {
    await this.docker.getPlugin(plugin, plugin).disable({ force: true });
  }

  /** Waits up to timeoutSeconds for the plugin to answer on its socket. */
  async enablePlugin(plugin: string, timeoutSeconds: number): Promise<void> {
    await this.docker.getPlugin(plugin, plugin).enable({ timeout: timeoutSeconds });
  }
}
