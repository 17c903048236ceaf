import type Docker from 'dockerode';
import type { ConfigDefinition, NetworkDefinition, SecretDefinition, ServiceDefinition } from '../vocabulary/swarm-definitions';
import type { SwarmDefinitionsApi } from './docker-api';
import { withoutEnvValues } from './env-names';

/** One bounded request to the engine (DockerodeApi's, with DOCKER_API_TIMEOUT). */
export type EngineRequest = <T>(what: string, call: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Set by the allocator of the exporting cluster: given back on create, it would ask a new cluster for the
 * same VXLAN IDs, which another network there may hold.
 */
const ALLOCATED_OPTIONS = ['com.docker.network.driver.overlay.vxlanid_list'];

/** The Swarm definitions through dockerode: what the export reads and what recreate creates. */
export class DockerodeSwarmDefinitions implements SwarmDefinitionsApi {
  constructor(
    private readonly docker: Docker,
    private readonly request: EngineRequest,
  ) {}

  async networks(): Promise<NetworkDefinition[]> {
    const networks = (await this.request('listing the networks', (abortSignal) => this.docker.listNetworks({ abortSignal }))) as NetworkInfo[];
    return networks
      .filter((network) => network.Scope === 'swarm' && network.Ingress !== true)
      .map((network) => ({
        id: network.Id,
        name: network.Name,
        spec: {
          Name: network.Name,
          Driver: network.Driver,
          Scope: network.Scope,
          Internal: network.Internal ?? false,
          Attachable: network.Attachable ?? false,
          EnableIPv6: network.EnableIPv6 ?? false,
          ...(network.IPAM ? { IPAM: network.IPAM } : {}),
          Options: Object.fromEntries(Object.entries(network.Options ?? {}).filter(([key]) => !ALLOCATED_OPTIONS.includes(key))),
          Labels: network.Labels ?? {},
          ...(network.ConfigOnly ? { ConfigOnly: true } : {}),
          ...(network.ConfigFrom?.Network ? { ConfigFrom: network.ConfigFrom } : {}),
        },
      }));
  }

  async configs(): Promise<ConfigDefinition[]> {
    const configs = (await this.request('listing the configs', (abortSignal) => this.docker.listConfigs({ abortSignal }))) as unknown as ConfigInfo[];
    return configs.map((config) => ({ id: config.ID, name: config.Spec.Name, spec: { ...config.Spec, Data: config.Spec.Data ?? '' } }));
  }

  async secrets(): Promise<SecretDefinition[]> {
    const secrets = (await this.request('listing the secrets', (abortSignal) => this.docker.listSecrets({ abortSignal }))) as SecretInfo[];
    return secrets.map((secret) => ({ id: secret.ID, name: secret.Spec.Name, labels: secret.Spec.Labels ?? {} }));
  }

  async services(): Promise<ServiceDefinition[]> {
    const services = (await this.request('listing the services', (abortSignal) => this.docker.listServices({ abortSignal }))) as unknown as ServiceInfo[];
    return services.map((service) => ({ id: service.ID, name: service.Spec.Name, spec: withoutEnvValues(service.Spec) }));
  }

  async createNetwork(spec: Record<string, unknown>): Promise<string> {
    const network = await this.request(`creating network ${String(spec.Name)}`, (abortSignal) =>
      this.docker.createNetwork({ _query: {}, _body: spec, abortSignal } as unknown as Docker.NetworkCreateOptions),
    );
    return network.id;
  }

  async createConfig(spec: Record<string, unknown>): Promise<string> {
    const config = (await this.request(`creating config ${String(spec.Name)}`, (abortSignal) =>
      this.docker.createConfig({ _query: {}, _body: spec, abortSignal }),
    )) as { id: string };
    return config.id;
  }

  async createService(spec: Record<string, unknown>): Promise<string> {
    // No registry auth: with one argument, dockerode would send the options as X-Registry-Auth.
    const service = await this.request(`creating service ${String(spec.Name)}`, (abortSignal) =>
      this.docker.createService(undefined as unknown as Docker.AuthConfig, { _query: {}, _body: spec, abortSignal } as unknown as Docker.ServiceSpec),
    );
    return service.id;
  }
}

interface NetworkInfo {
  Id: string;
  Name: string;
  Scope?: string;
  Driver?: string;
  Ingress?: boolean;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: Record<string, unknown>;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string };
}

interface ConfigInfo {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string>; Data?: string } & Record<string, unknown>;
}

interface SecretInfo {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

interface ServiceInfo {
  ID: string;
  Spec: { Name: string } & Record<string, unknown>;
}
