// A real Kubernetes control plane on loopback for tests and the GitOps validation's server-side
// dry run: etcd, kube-apiserver (RBAC + Node
// authorizers, PodSecurity and ServiceAccount admission, service-account token signing, a static
// admin token) and kube-controller-manager (Job, garbage collector, TTL, service accounts, ...).
// No kubelet and no scheduler: see @kritik/testing's kubelet.ts for the test kubelet that runs pods locally.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { freePorts, retryOnPortClash } from './ports.js';
import { type ManagedProcess, startProcess, waitUntil } from './process.js';
import { requireTool } from './tools.js';

/** The controllers the harness runs; the Job controller needs nothing beyond the API server. */
export const DEFAULT_CONTROLLERS = [
  'job-controller',
  'garbage-collector-controller',
  'ttl-after-finished-controller',
  'serviceaccount-token-controller',
  'serviceaccount-controller',
  'namespace-controller',
  'root-ca-certificate-publisher-controller',
  // Without it a ResourceQuota never gets a status and quota admission rejects every pod.
  'resourcequota-controller',
] as const;

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ControlPlaneOptions {
  /** Extra kube-controller-manager controllers, e.g. 'cronjob-controller'. */
  extraControllers?: string[];
  /** Extra kube-apiserver flags (`--name=value`). */
  extraApiServerArgs?: string[];
  /** Upper bound for the whole startup (default 60 s; a cold start here takes about 3 s). */
  startTimeoutMs?: number;
}

export interface ControlPlaneTimings {
  /** From start until kube-apiserver answers /readyz with ok. */
  apiServerReadyMs: number;
  /** From start until the controller manager has created the `default` ServiceAccount. */
  totalMs: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** A kubeconfig file for the admin user (for helm, kubectl or child processes). */
  readonly kubeconfigPath: string;
  /** The API server's self-signed serving certificate chain (PEM). */
  readonly caFile: string;
  /** Temp dir holding certificates, keys and the component logs (`<component>.log`). */
  readonly dir: string;
  readonly timings: ControlPlaneTimings;
  /** A fresh client config acting as the admin (group system:masters). */
  adminKubeConfig(): KubeConfig;
  /** A client config acting as `serviceAccount` in `namespace` (created if missing), via TokenRequest. */
  kubeConfigFor(namespace: string, serviceAccount: string, expirationSeconds?: number): Promise<KubeConfig>;
  /** Creates a namespace and waits until its `default` ServiceAccount exists, so pods are admitted. */
  createNamespace(name: string, labels?: Record<string, string>): Promise<V1Namespace>;
  /** Kills every component and deletes the temp dir. */
  stop(): Promise<void>;
}

interface ClusterAccess {
  server: string;
  caData: string;
}

function kubeConfigOf(access: ClusterAccess, userName: string, token: string, namespace?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'kritik-test', server: access.server, caData: access.caData, skipTLSVerify: false }],
    users: [{ name: userName, token }],
    contexts: [{ name: 'kritik-test', cluster: 'kritik-test', user: userName, namespace }],
    currentContext: 'kritik-test',
  });
  return kc;
}

/** GET over HTTPS trusting `ca`; resolves the status code and body. */
function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The HTTP status of a failed @kubernetes/client-node call (its ApiException's `code`). */
export function apiStatus(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** The `message` of the Status object in a failed call's body (the API server's own words). */
export function apiMessage(error: unknown): string | undefined {
  const body = typeof error === 'object' && error !== null ? (error as { body?: unknown }).body : undefined;
  try {
    const status: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    const message =
      typeof status === 'object' && status !== null ? (status as { message?: unknown }).message : undefined;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

function goArch(): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386' };
  return names[process.arch] ?? process.arch;
}

/** Starts a control plane on free loopback ports (retried on fresh ports if one is taken). */
export function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return retryOnPortClash(() => startOnce(options));
}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const etcdBinary = requireTool('etcd');
  const apiServerBinary = requireTool('kube-apiserver');
  const controllerManagerBinary = requireTool('kube-controller-manager');
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 60_000);
  const remaining = () => Math.max(1_000, deadline - Date.now());

  const dir = mkdtempSync(join(tmpdir(), 'kritik-k8s-'));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  const procs: ManagedProcess[] = [];
  const stopAll = async () => {
    // Nothing here is worth a graceful shutdown: all state is thrown away with the temp dir.
    await Promise.all(procs.map((proc) => proc.stop(0)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;

    // EC keys are generated in microseconds, unlike RSA; the API server accepts both for signing.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const saKeyFile = join(dir, 'sa.key');
    const saPubFile = join(dir, 'sa.pub');
    writeFileSync(saKeyFile, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
    writeFileSync(saPubFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const adminToken = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${adminToken},kritik-admin,kritik-admin,"system:masters"\n`, { mode: 0o600 });

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    procs.push(
      startProcess(
        'etcd',
        etcdBinary,
        [
          ...['--name', 'kritik', '--data-dir', join(dir, 'etcd'), '--logger', 'zap', '--log-level', 'warn'],
          ...['--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl],
          ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
          ...['--initial-cluster', `kritik=${peerUrl}`, '--initial-cluster-state', 'new'],
        ],
        // etcd 3.4 refuses to run on anything but amd64 and ppc64le unless told the GOARCH it runs on.
        { logFile: join(dir, 'etcd.log'), cwd: dir, env: { ...process.env, ETCD_UNSUPPORTED_ARCH: goArch() } },
      ),
    );

    // The API server retries etcd while it starts, so both start together.
    const apiServer = startProcess(
      'kube-apiserver',
      apiServerBinary,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // Self-signed serving certificate generated by the API server for 127.0.0.1 and localhost.
        `--cert-dir=${certDir}`,
        '--authorization-mode=Node,RBAC',
        // As in real clusters, so that PodSecurity admission (not validation) rejects privileged pods.
        '--allow-privileged=true',
        // The test kubelet's Node has only an InternalIP (127.0.0.1); its name does not resolve.
        '--kubelet-preferred-address-types=InternalIP',
        '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,NodeRestriction,ResourceQuota',
        `--token-auth-file=${tokenFile}`,
        `--service-account-key-file=${saPubFile}`,
        `--service-account-signing-key-file=${saKeyFile}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // A loopback address is not a valid endpoint for the `kubernetes` Service.
        '--endpoint-reconciler-type=none',
        // Priority and fairness bootstraps dozens of objects at start and matters not for tests.
        '--enable-priority-and-fairness=false',
        '--profiling=false',
        ...(options.extraApiServerArgs ?? []),
      ],
      { logFile: join(dir, 'kube-apiserver.log'), cwd: dir },
    );
    procs.push(apiServer);

    const caFile = join(certDir, 'apiserver.crt');
    await waitUntil('kube-apiserver to write its serving certificate', async () => existsSync(caFile) || undefined, {
      timeoutMs: remaining(),
      intervalMs: 25,
      proc: procs,
    });
    const ca = readFileSync(caFile);
    await waitUntil(
      `kube-apiserver ${server}/readyz`,
      async () => {
        const { status, body } = await httpsGet(`${server}/readyz`, ca, adminToken);
        if (status === 200 && body.trim() === 'ok') return true;
        throw new Error(`readyz ${status}: ${body.slice(-300)}`);
      },
      { timeoutMs: remaining(), intervalMs: 50, proc: procs },
    );
    const apiServerReadyMs = Date.now() - started;

    const access: ClusterAccess = { server, caData: ca.toString('base64') };
    const admin = () => kubeConfigOf(access, 'kritik-admin', adminToken);
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, admin().exportConfig(), { mode: 0o600 });

    const controllerManager = startProcess(
      'kube-controller-manager',
      controllerManagerBinary,
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--controllers=${[...DEFAULT_CONTROLLERS, ...(options.extraControllers ?? [])].join(',')}`,
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${saKeyFile}`,
        `--root-ca-file=${caFile}`,
        '--leader-elect=false',
        // No HTTPS endpoint: nothing scrapes it, and it would need one more free port.
        '--secure-port=0',
        '--profiling=false',
      ],
      { logFile: join(dir, 'kube-controller-manager.log'), cwd: dir },
    );
    procs.push(controllerManager);

    const core = admin().makeApiClient(CoreV1Api);
    const waitForDefaultServiceAccount = (namespace: string, timeoutMs: number) =>
      waitUntil(
        `ServiceAccount ${namespace}/default (created by kube-controller-manager)`,
        () => core.readNamespacedServiceAccount({ namespace, name: 'default' }).then(() => true),
        { timeoutMs, intervalMs: 50, proc: procs },
      );
    await waitForDefaultServiceAccount('default', remaining());
    const timings: ControlPlaneTimings = { apiServerReadyMs, totalMs: Date.now() - started };

    return {
      server,
      kubeconfigPath,
      caFile,
      dir,
      timings,
      adminKubeConfig: admin,
      async kubeConfigFor(namespace, serviceAccount, expirationSeconds = 3_600) {
        try {
          await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
        } catch (error) {
          if (apiStatus(error) !== 409) throw error;
        }
        const tokenRequest = await core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          body: { spec: { audiences: [], expirationSeconds } },
        });
        const token = tokenRequest.status?.token;
        if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
        return kubeConfigOf(access, `system:serviceaccount:${namespace}:${serviceAccount}`, token, namespace);
      },
      async createNamespace(name, labels) {
        const namespace = await core.createNamespace({ body: { metadata: { name, labels } } });
        await waitForDefaultServiceAccount(name, 30_000);
        return namespace;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
