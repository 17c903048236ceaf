/** KEY=VALUE entries reduced to their keys: values often carry passwords. */
export function envNames(env: string[] | null | undefined): string[] {
  return (env ?? []).map((entry) => entry.split('=', 1)[0]);
}

/** A copy of a service spec whose ContainerSpec.Env became EnvNames (the names alone). */
export function withoutEnvValues(spec: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(spec) as { TaskTemplate?: { ContainerSpec?: Record<string, unknown> } };
  const containerSpec = copy.TaskTemplate?.ContainerSpec;
  if (containerSpec?.Env !== undefined) {
    containerSpec.EnvNames = envNames(containerSpec.Env as string[]);
    delete containerSpec.Env;
  }
  return copy as Record<string, unknown>;
}
