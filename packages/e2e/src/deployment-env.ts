// What a Deployment's container would get from the kubelet, for running it as a local process:
// its env resolved from the installed Secrets and ConfigMaps, and its ConfigMap volumes written
// to a directory, with env values that point into a mount rewritten to point there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiEnvSources, resolveContainerEnv } from '@kritik/testing';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface ContainerRuntime {
  /** The container's environment (no host variables). */
  readonly env: Record<string, string>;
  /** Ports the container declares, by name. */
  readonly ports: Record<string, number>;
}

/**
 * The first container of Deployment `namespace/name` as a local process would run it; ConfigMap
 * volumes are written under `dir`.
 */
export async function deploymentRuntime(
  kc: KubeConfig,
  namespace: string,
  name: string,
  dir: string,
): Promise<ContainerRuntime> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const deployment = await apps.readNamespacedDeployment({ namespace, name });
  const template = deployment.spec!.template;
  const container = template.spec!.containers[0]!;
  const sources = apiEnvSources(core);
  const pod = { metadata: { ...template.metadata, name, namespace }, spec: template.spec };
  const env = await resolveContainerEnv(pod, container, sources);

  const mounts: [string, string][] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = template.spec!.volumes?.find((v) => v.name === mount.name);
    if (!volume?.configMap?.name) continue;
    const data = await sources.configMap(namespace, volume.configMap.name);
    if (!data) throw new Error(`ConfigMap ${namespace}/${volume.configMap.name} of ${name} does not exist`);
    const local = join(dir, name, mount.mountPath);
    mkdirSync(local, { recursive: true });
    for (const [key, value] of Object.entries(data)) writeFileSync(join(local, key), value);
    mounts.push([mount.mountPath, local]);
  }
  for (const [key, value] of Object.entries(env)) {
    const mount = mounts.find(([path]) => value === path || value.startsWith(`${path}/`));
    if (mount) env[key] = mount[1] + value.slice(mount[0].length);
  }
  const ports = Object.fromEntries(
    (container.ports ?? []).map((p) => [p.name ?? String(p.containerPort), p.containerPort]),
  );
  return { env, ports };
}
