// Resolves a container's environment the way the kubelet does (envFrom, then env in order, with
// $(VAR) expansion), reading Secrets and ConfigMaps through an injected lookup.
import { apiStatus } from '@kritik/control-plane';
import type { CoreV1Api, V1Container, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';

/** The kubelet's CreateContainerConfigError: the pod cannot start until the reference resolves. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
}

export interface EnvSources {
  /** The decoded data of a Secret, or undefined when it does not exist. */
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The data of a ConfigMap, or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** Secrets and ConfigMaps as the API server has them (a 404 is "does not exist"). */
export function apiEnvSources(core: CoreV1Api): EnvSources {
  const orUndefined = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  };
  return {
    async secret(namespace, name) {
      const secret = await orUndefined(() => core.readNamespacedSecret({ namespace, name }));
      if (!secret) return undefined;
      const data = Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]);
      return { ...Object.fromEntries(data), ...secret.stringData };
    },
    configMap: async (namespace, name) =>
      (await orUndefined(() => core.readNamespacedConfigMap({ namespace, name })))?.data ?? undefined,
  };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Kubernetes `$(VAR)` expansion: defined names are replaced, `$$` escapes, unknown refs stay. */
export function expandVars(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$(\$|\(([^)]*)\))/g, (match, inner: string, name: string | undefined) => {
    if (inner === '$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : match;
  });
}

function fieldValue(pod: V1Pod, selector: V1ObjectFieldSelector): string {
  const path = selector.fieldPath;
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) {
    const map = keyed[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[keyed[2]!] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    // The test kubelet runs every pod on the host's loopback address.
    case 'status.hostIP':
    case 'status.hostIPs':
    case 'status.podIP':
    case 'status.podIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError(`fieldRef ${path} is not supported by the test kubelet`);
  }
}

/** The environment of `container` in `pod`, on top of `base` (which env and envFrom override). */
export async function resolveContainerEnv(
  pod: V1Pod,
  container: V1Container,
  sources: EnvSources,
  base: Readonly<Record<string, string>> = {},
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const secrets = new Map<string, Promise<Record<string, string> | undefined>>();
  const configMaps = new Map<string, Promise<Record<string, string> | undefined>>();
  const secret = (name: string) => {
    if (!secrets.has(name)) secrets.set(name, sources.secret(namespace, name));
    return secrets.get(name)!;
  };
  const configMap = (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, sources.configMap(namespace, name));
    return configMaps.get(name)!;
  };

  const env: Record<string, string> = { ...base };
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref?.name) continue;
    const kind = from.secretRef ? 'secret' : 'configmap';
    const data = await (from.secretRef ? secret(ref.name) : configMap(ref.name));
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      const name = `${from.prefix ?? ''}${key}`;
      // Like the kubelet, keys that are not valid variable names are skipped.
      if (ENV_NAME.test(name)) env[name] = value;
    }
  }

  for (const variable of container.env ?? []) {
    const source = variable.valueFrom;
    if (!source) {
      env[variable.name] = expandVars(variable.value ?? '', env);
      continue;
    }
    const ref = source.secretKeyRef ?? source.configMapKeyRef;
    if (ref) {
      const kind = source.secretKeyRef ? 'secret' : 'configmap';
      const data = await (source.secretKeyRef ? secret(ref.name!) : configMap(ref.name!));
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        const what = data ? `key "${ref.key}" in ${kind} "${ref.name}"` : `${kind} "${ref.name}"`;
        throw new ContainerConfigError(`${what} not found (env ${variable.name})`);
      }
      env[variable.name] = value;
    } else if (source.fieldRef) {
      env[variable.name] = fieldValue(pod, source.fieldRef);
    } else {
      throw new ContainerConfigError(
        `env ${variable.name}: only value, secretKeyRef, configMapKeyRef and fieldRef are supported`,
      );
    }
  }
  return env;
}
