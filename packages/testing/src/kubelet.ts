// A test kubelet (and scheduler) for the harness control plane: registers a Ready Node, binds
// the pending pods of chosen namespaces to it and runs each pod's first container as a local
// process, writing phase, exit code and termination message into pod status like a kubelet, so
// the real Job controller completes or fails Jobs. It also serves container logs to the API server.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  type Dirent,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:https';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiStatus, diesWithParent, findExecutable, repoRoot } from '@kritik/control-plane';
import { ENV } from '@kritik/core';
import {
  CoreV1Api,
  type Informer,
  type KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { selfSignedCertificate } from './certificates.js';
import { apiEnvSources, ContainerConfigError, type EnvSources, expandVars, resolveContainerEnv } from './pod-env.js';

export interface TestKubeletOptions {
  /** Namespaces whose pods this kubelet schedules and runs (others are left alone). */
  namespaces: string[];
  /** Node name (default `kritik-test-node`). */
  nodeName?: string;
  /**
   * The local command standing in for an image's entrypoint, by image name with or without tag,
   * for containers that set no `command` (their `args` are appended).
   */
  entrypoints?: Record<string, string[]>;
}

export interface TestKubelet {
  readonly nodeName: string;
  /** stdout and stderr of the pod's container (latest run), interleaved; '' when unknown. */
  logs(podName: string, namespace?: string): string;
  /**
   * Most bytes an emptyDir volume held while the container ran (sampled on every change and every 50 ms), and the
   * volume's sizeLimit in bytes, for the first pod whose name starts with `podPrefix` (a Job's
   * name); undefined when the pod or volume is unknown.
   */
  volumeUsage(podPrefix: string, volume: string): { peakBytes: number; sizeLimitBytes?: number } | undefined;
  /** Failures of the kubelet itself (status writes, bindings), for assertions and debugging. */
  readonly errors: readonly string[];
  /** Kills every container process, stops watching and deletes the temp dir. */
  stop(): Promise<void>;
}

const DEFAULT_NODE_NAME = 'kritik-test-node';
const DEFAULT_TERMINATION_PATH = '/dev/termination-log';
/** The kubelet reads at most this much of a termination message file. */
const MAX_TERMINATION_MESSAGE = 4096;
/** FallbackToLogsOnError: the kubelet takes the last 80 lines, at most 2 KiB. */
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;
const MAX_LOG_CHARS = 2 * 1024 * 1024;
const RESTART_BACKOFF_MS = 1_000;

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

interface Terminated {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
}

/** One pod on this node: its container process (restarted per restartPolicy) and its output. */
class PodRun {
  child: ChildProcess | undefined;
  output = '';
  previousOutput = '';
  restartCount = 0;
  lastTerminated: Terminated | undefined;
  /** Why the kubelet itself ended the pod, if it did. */
  killReason: 'Deleted' | 'DeadlineExceeded' | undefined;
  killTimer: NodeJS.Timeout | undefined;
  deadlineTimer: NodeJS.Timeout | undefined;
  statusWrites: Promise<void> = Promise.resolve();
  /** Resolves when the pod has reached a terminal phase (and that phase was written). */
  finished: Promise<void>;
  markFinished!: () => void;
  readonly followers = new Set<(chunk: string | null) => void>();
  readonly startTime = now();
  /** emptyDir volumes of the container: a local directory each, and the most it held. */
  readonly volumes = new Map<string, { dir: string; mountPath: string; peakBytes: number; sizeLimitBytes?: number }>();

  constructor(
    public pod: V1Pod,
    readonly dir: string,
  ) {
    this.finished = new Promise((done) => {
      this.markFinished = done;
    });
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  append(chunk: string): void {
    this.output += chunk;
    if (this.output.length > MAX_LOG_CHARS) this.output = this.output.slice(-MAX_LOG_CHARS);
    for (const follower of this.followers) follower(chunk);
  }

  /** SIGTERM to the container's process group, SIGKILL after `graceSeconds`. */
  kill(graceSeconds: number): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
    if (graceSeconds > 0 && !this.killTimer) {
      this.killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), graceSeconds * 1000);
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Bytes of the files under `dir` (links not followed). */
function directoryBytes(dir: string): number {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += directoryBytes(p);
    else if (e.isFile()) total += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
  }
  return total;
}

/** A Kubernetes quantity such as `1Gi`, `500M` or `1024` in bytes. */
function quantityBytes(quantity: string): number {
  const m = /^([0-9.]+)([KMGTPE]i?)?$/.exec(quantity.trim());
  if (!m) throw new Error(`not a quantity: ${quantity}`);
  const units: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  const suffix = m[2] ?? '';
  const factor = suffix.endsWith('i') ? 1024 ** ' KMGTPE'.indexOf(suffix[0]!) : (units[suffix] ?? 1);
  return Math.round(Number(m[1]) * factor);
}

function readLimited(file: string): string {
  try {
    return readFileSync(file).subarray(0, MAX_TERMINATION_MESSAGE).toString('utf8');
  } catch {
    return '';
  }
}

function tailLog(output: string): string {
  const lines = output.trimEnd().split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
  const bytes = Buffer.from(lines, 'utf8');
  return bytes.length > FALLBACK_LOG_BYTES ? bytes.subarray(-FALLBACK_LOG_BYTES).toString('utf8') : lines;
}

function imageName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}

function podConditions(ready: boolean, reason?: string) {
  const at = now();
  const readiness = { status: ready ? 'True' : 'False', lastTransitionTime: at, ...(reason ? { reason } : {}) };
  return [
    { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: at },
    { type: 'Initialized', status: 'True', lastTransitionTime: at },
    { type: 'Ready', ...readiness },
    { type: 'ContainersReady', ...readiness },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
  ];
}

/** A self-signed serving certificate for the log endpoint (the API server does not verify it). */
function servingCertificate(dir: string, nodeName: string): { key: Buffer; cert: Buffer } {
  const files = selfSignedCertificate(dir, nodeName);
  return { key: readFileSync(files.keyFile), cert: readFileSync(files.certFile) };
}

class Kubelet implements TestKubelet {
  readonly errors: string[] = [];
  private readonly core: CoreV1Api;
  private readonly runs = new Map<string, PodRun>();
  private readonly runsByKey = new Map<string, PodRun>();
  private readonly binding = new Set<string>();
  private readonly deleting = new Set<string>();
  private readonly informers: Informer<V1Pod>[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly sources: EnvSources;
  private server: Server | undefined;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    readonly nodeName: string,
    private readonly namespaces: string[],
    private readonly entrypoints: Record<string, string[]>,
    private readonly dir: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.sources = apiEnvSources(this.core);
  }

  async start(kc: KubeConfig): Promise<void> {
    const port = await this.serveLogs();
    await this.registerNode(port);
    for (const namespace of this.namespaces) {
      const informer = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () =>
        this.core.listNamespacedPod({ namespace }),
      );
      informer.on('add', (pod) => this.reconcile(pod));
      informer.on('update', (pod) => this.reconcile(pod));
      informer.on('delete', (pod) => this.forget(pod));
      // The informer resumes from its last resourceVersion on its own when a watch simply ends;
      // after an error it stops, so it is restarted here (it relists when the version is gone).
      informer.on('error', (error) => {
        if (this.stopped) return;
        this.report(`watch of pods in ${namespace} failed: ${String(error)}`);
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          if (!this.stopped) void informer.start();
        }, 500);
        this.retryTimers.add(timer);
      });
      this.informers.push(informer);
    }
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  volumeUsage(podPrefix: string, volume: string): { peakBytes: number; sizeLimitBytes?: number } | undefined {
    for (const run of this.runsByKey.values()) {
      if (!run.pod.metadata?.name?.startsWith(podPrefix)) continue;
      const v = run.volumes.get(volume);
      if (!v) return undefined;
      return {
        peakBytes: v.peakBytes,
        ...(v.sizeLimitBytes !== undefined ? { sizeLimitBytes: v.sizeLimitBytes } : {}),
      };
    }
    return undefined;
  }

  logs(podName: string, namespace?: string): string {
    if (namespace) return this.runsByKey.get(`${namespace}/${podName}`)?.output ?? '';
    for (const run of this.runsByKey.values()) if (run.pod.metadata?.name === podName) return run.output;
    return '';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    await Promise.all(this.informers.map((informer) => informer.stop()));
    const exits: Promise<unknown>[] = [];
    for (const run of this.runs.values()) {
      clearTimeout(run.deadlineTimer);
      clearTimeout(run.killTimer);
      const child = run.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        exits.push(new Promise((done) => child.once('exit', done)));
        run.kill(0);
      }
      for (const follower of run.followers) follower(null);
    }
    await Promise.all(exits);
    await new Promise<void>((done) => {
      if (!this.server) return done();
      this.server.close(() => done());
      this.server.closeAllConnections();
    });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private report(problem: string): void {
    this.errors.push(`${now()} ${problem}`);
  }

  private async registerNode(port: number): Promise<void> {
    const name = this.nodeName;
    const labels = { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };
    const at = now();
    const condition = (type: string, status: string, reason: string) => ({
      type,
      status,
      reason,
      message: `test kubelet: ${reason}`,
      lastHeartbeatTime: at,
      lastTransitionTime: at,
    });
    const resources = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const status = {
      conditions: [
        condition('Ready', 'True', 'KubeletReady'),
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      ],
      // No Hostname address: the API server would try to resolve it to reach the log endpoint.
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      capacity: resources,
      allocatable: resources,
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
      nodeInfo: {
        machineID: name,
        systemUUID: name,
        bootID: name,
        kernelVersion: '',
        osImage: 'kritik test kubelet',
        containerRuntimeVersion: 'local-process://1',
        kubeletVersion: 'v1.33.13',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
    try {
      await this.core.createNode({ body: { metadata: { name, labels } } });
    } catch (error) {
      if (apiStatus(error) !== 409) throw error;
    }
    // Admission taints a new node not-ready; no node-lifecycle controller runs to lift it.
    await this.core.patchNode({ name, body: { spec: { taints: null } } }, mergePatch);
    await this.core.patchNodeStatus({ name, body: { status } }, mergePatch);
  }

  /** Serves /containerLogs/{namespace}/{pod}/{container}, where the API server sends pods/log. */
  private async serveLogs(): Promise<number> {
    const server = createServer(servingCertificate(this.dir, this.nodeName), (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const run = match ? this.runsByKey.get(`${match[1]}/${match[2]}`) : undefined;
      if (!run) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      let text = url.searchParams.get('previous') === 'true' ? run.previousOutput : run.output;
      const tailLines = Number(url.searchParams.get('tailLines') ?? Number.NaN);
      if (Number.isInteger(tailLines) && tailLines >= 0) {
        const lines = text.split(/(?<=\n)/);
        text = tailLines === 0 ? '' : lines.slice(-tailLines).join('');
      }
      const limitBytes = Number(url.searchParams.get('limitBytes') ?? Number.NaN);
      if (Number.isInteger(limitBytes) && limitBytes > 0) {
        text = Buffer.from(text).subarray(0, limitBytes).toString('utf8');
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.write(text);
      const running = run.child && run.child.exitCode === null && run.child.signalCode === null;
      if (url.searchParams.get('follow') !== 'true' || !running) {
        res.end();
        return;
      }
      const follower = (chunk: string | null) => {
        if (chunk === null) {
          run.followers.delete(follower);
          res.end();
        } else res.write(chunk);
      };
      run.followers.add(follower);
      req.on('close', () => run.followers.delete(follower));
    });
    this.server = server;
    await new Promise<void>((done, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => done());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('kubelet log server has no port');
    return address.port;
  }

  private reconcile(pod: V1Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (pod.metadata?.deletionTimestamp) {
      void this.terminate(pod);
      return;
    }
    const node = pod.spec?.nodeName;
    if (!node) {
      if (!this.binding.has(uid)) {
        this.binding.add(uid);
        void this.bind(pod);
      }
      return;
    }
    if (node !== this.nodeName) return;
    const existing = this.runs.get(uid);
    if (existing) {
      existing.pod = pod;
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const run = new PodRun(pod, join(this.dir, uid));
    this.runs.set(uid, run);
    this.runsByKey.set(run.key, run);
    if (phase === 'Running') {
      // Running on this node but unknown to this kubelet: an earlier kubelet ran it and is gone.
      this.finish(run, 'Failed', { reason: 'KubeletRestarted', message: 'the test kubelet that ran this pod stopped' });
      return;
    }
    void this.execute(run).catch((error: unknown) => {
      this.report(`pod ${run.key}: ${String(error)}`);
      this.finish(run, 'Failed', { reason: 'KubeletError', message: String(error) });
    });
  }

  private async bind(pod: V1Pod): Promise<void> {
    const { name, namespace } = pod.metadata as { name: string; namespace: string };
    try {
      await this.core.createNamespacedPodBinding({
        name,
        namespace,
        body: { metadata: { name, namespace }, target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName } },
      });
    } catch (error) {
      // 409: bound meanwhile; 404: deleted meanwhile.
      const status = apiStatus(error);
      if (status !== 409 && status !== 404) this.report(`binding ${namespace}/${name} failed: ${String(error)}`);
    }
  }

  /** The pod is being deleted: stop its container, then confirm the deletion like a kubelet. */
  private async terminate(pod: V1Pod): Promise<void> {
    const uid = pod.metadata!.uid!;
    if (pod.spec?.nodeName !== this.nodeName || this.deleting.has(uid)) return;
    this.deleting.add(uid);
    const run = this.runs.get(uid);
    if (run) {
      run.pod = pod;
      run.killReason ??= 'Deleted';
      run.kill(pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
      await run.finished;
      await run.statusWrites;
    }
    const { name, namespace } = pod.metadata as { name: string; namespace: string };
    try {
      await this.core.deleteNamespacedPod({
        name,
        namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      });
    } catch (error) {
      const status = apiStatus(error);
      if (status !== 404 && status !== 409) this.report(`deleting ${namespace}/${name} failed: ${String(error)}`);
    }
  }

  /** The pod object is gone: make sure its process is too. */
  private forget(pod: V1Pod): void {
    const run = pod.metadata?.uid ? this.runs.get(pod.metadata.uid) : undefined;
    if (!run) return;
    run.killReason ??= 'Deleted';
    run.kill(0);
  }

  private writeStatus(run: PodRun, status: Record<string, unknown>): Promise<void> {
    const { name, namespace } = run.pod.metadata as { name: string; namespace: string };
    run.statusWrites = run.statusWrites.then(async () => {
      if (this.stopped) return;
      try {
        await this.core.patchNamespacedPodStatus({ name, namespace, body: { status } }, mergePatch);
      } catch (error) {
        if (apiStatus(error) !== 404) this.report(`status of ${namespace}/${name}: ${String(error)}`);
      }
    });
    return run.statusWrites;
  }

  private containerStatus(run: PodRun, container: V1Container, state: Record<string, unknown>, ready: boolean) {
    return {
      name: container.name,
      image: container.image ?? '',
      imageID: '',
      containerID: `local-process://${run.pod.metadata?.uid}/${run.restartCount}`,
      ready,
      started: 'running' in state,
      restartCount: run.restartCount,
      state,
      ...(run.lastTerminated ? { lastState: { terminated: run.lastTerminated } } : {}),
    };
  }

  private baseStatus(run: PodRun) {
    return {
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: run.startTime,
    };
  }

  private finish(
    run: PodRun,
    phase: 'Succeeded' | 'Failed',
    detail: { reason?: string; message?: string; terminated?: Terminated },
  ): void {
    clearTimeout(run.deadlineTimer);
    const container = run.pod.spec?.containers[0];
    const containerStatuses =
      container && detail.terminated
        ? [this.containerStatus(run, container, { terminated: detail.terminated }, false)]
        : undefined;
    void this.writeStatus(run, {
      ...this.baseStatus(run),
      phase,
      ...(detail.reason ? { reason: detail.reason, message: detail.message ?? '' } : {}),
      conditions: podConditions(false, 'PodCompleted'),
      ...(containerStatuses ? { containerStatuses } : {}),
    }).then(run.markFinished);
  }

  private async execute(run: PodRun): Promise<void> {
    const pod = run.pod;
    const container = pod.spec?.containers[0];
    if (!container) throw new Error('pod has no containers');
    mkdirSync(run.dir, { recursive: true });
    const deadline = pod.spec?.activeDeadlineSeconds;
    if (deadline !== undefined) {
      run.deadlineTimer = setTimeout(() => {
        run.killReason ??= 'DeadlineExceeded';
        run.kill(pod.spec?.terminationGracePeriodSeconds ?? 30);
      }, deadline * 1000);
    }

    let lastConfigError = '';
    for (;;) {
      if (this.stopped) return;
      if (run.killReason) return this.finishKilled(run, undefined);
      let env: Record<string, string>;
      try {
        env = await this.containerEnv(run, container);
      } catch (error) {
        if (!(error instanceof ContainerConfigError)) throw error;
        if (error.message !== lastConfigError) {
          lastConfigError = error.message;
          const waiting = { waiting: { reason: 'CreateContainerConfigError', message: error.message } };
          await this.writeStatus(run, {
            ...this.baseStatus(run),
            phase: 'Pending',
            conditions: podConditions(false, 'ContainersNotReady'),
            containerStatuses: [this.containerStatus(run, container, waiting, false)],
          });
        }
        await sleep(RESTART_BACKOFF_MS);
        continue;
      }

      const terminated = await this.runContainer(run, container, env);
      if (run.killReason) return this.finishKilled(run, terminated);
      const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
      const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && terminated.exitCode !== 0);
      if (!restart) {
        this.finish(run, terminated.exitCode === 0 ? 'Succeeded' : 'Failed', { terminated });
        return;
      }
      run.lastTerminated = terminated;
      run.restartCount += 1;
      await sleep(RESTART_BACKOFF_MS);
    }
  }

  private finishKilled(run: PodRun, terminated: Terminated | undefined): void {
    if (run.killReason === 'DeadlineExceeded') {
      this.finish(run, 'Failed', {
        reason: 'DeadlineExceeded',
        message: `Pod was active on the node longer than the specified deadline`,
        terminated,
      });
    } else {
      this.finish(run, 'Failed', { terminated });
    }
  }

  private async containerEnv(run: PodRun, container: V1Container): Promise<Record<string, string>> {
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? run.dir,
      HOSTNAME: run.pod.metadata?.name ?? '',
    };
    const env = await resolveContainerEnv(run.pod, container, this.sources, base);
    // emptyDir volumes become a directory of the pod; env naming a mount path points there instead.
    for (const mount of container.volumeMounts ?? []) {
      const volume = run.pod.spec?.volumes?.find((v) => v.name === mount.name);
      if (!volume?.emptyDir) continue;
      const dir = join(run.dir, 'volumes', mount.name);
      mkdirSync(dir, { recursive: true });
      const limit = volume.emptyDir.sizeLimit;
      run.volumes.set(mount.name, {
        dir,
        mountPath: mount.mountPath,
        peakBytes: 0,
        ...(limit !== undefined ? { sizeLimitBytes: quantityBytes(String(limit)) } : {}),
      });
      for (const [name, value] of Object.entries(env)) {
        if (value === mount.mountPath) env[name] = dir;
        else if (value.startsWith(`${mount.mountPath}/`)) env[name] = dir + value.slice(mount.mountPath.length);
      }
    }
    // The container's terminationMessagePath is mapped to a file of this pod: the reviewer
    // writes to $KRITIK_TERMINATION_LOG, and so does anything handed the path through env.
    const terminationPath = container.terminationMessagePath ?? DEFAULT_TERMINATION_PATH;
    const file = join(run.dir, 'termination-log');
    for (const [name, value] of Object.entries(env)) if (value === terminationPath) env[name] = file;
    env[ENV.terminationLog] = file;
    return env;
  }

  private command(container: V1Container, env: Record<string, string>): string[] {
    const args = (container.args ?? []).map((arg) => expandVars(arg, env));
    if (container.command?.length) return [...container.command.map((part) => expandVars(part, env)), ...args];
    const image = container.image ?? '';
    const entrypoint = this.entrypoints[image] ?? this.entrypoints[imageName(image)];
    if (entrypoint) return [...entrypoint, ...args];
    return [];
  }

  private async runContainer(run: PodRun, container: V1Container, env: Record<string, string>): Promise<Terminated> {
    const startedAt = now();
    const startedMs = Date.now();
    const terminationFile = env[ENV.terminationLog]!;
    writeFileSync(terminationFile, '');
    run.previousOutput = run.output;
    run.output = '';
    const fail = (message: string): Terminated => ({
      exitCode: 128,
      reason: 'StartError',
      message,
      startedAt,
      finishedAt: now(),
    });

    const argv = this.command(container, env);
    if (argv.length === 0) {
      return fail(
        `container ${container.name} has no command and image ${container.image} has no entry in the test kubelet's entrypoints`,
      );
    }
    const workingDir = container.workingDir && statSync(container.workingDir, { throwIfNoEntry: false })?.isDirectory();
    const cwd = workingDir ? container.workingDir! : repoRoot();
    const executable = findExecutable(argv[0]!, env.PATH ?? '', cwd);
    if (!executable) return fail(`exec: "${argv[0]}": executable file not found in $PATH`);

    // Detached: its own process group, so that deletion kills everything it started.
    const [file, fileArgs] = diesWithParent(executable, argv.slice(1));
    const child = spawn(file, fileArgs, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    run.child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => run.append(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => run.append(chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      child.once('error', (error) => done({ code: null, signal: null, error }));
      child.once('close', (code, signal) => done({ code, signal }));
    });
    // A container ends with its main process: whatever that left running in its group dies too
    // (and releases the output pipes, which 'close' waits for).
    child.once('exit', () => child.pid && signalGroup(child.pid, 'SIGKILL'));
    if (run.killReason) run.kill(0);

    await this.writeStatus(run, {
      ...this.baseStatus(run),
      phase: 'Running',
      conditions: podConditions(true),
      containerStatuses: [this.containerStatus(run, container, { running: { startedAt } }, true)],
    });

    const sample = () => {
      for (const v of run.volumes.values()) v.peakBytes = Math.max(v.peakBytes, directoryBytes(v.dir));
    };
    // Sampled on every change under a volume (a checkout lives for a second or less) and on a timer.
    const sampler = setInterval(sample, 50);
    const watchers = [...run.volumes.values()].map((v) =>
      // A directory removed while watched is an error of the watcher, not of the pod.
      watch(v.dir, { recursive: true }, sample).on('error', () => {}),
    );
    const { code, signal, error } = await exit.finally(() => {
      clearInterval(sampler);
      for (const w of watchers) w.close();
    });
    sample();
    clearTimeout(run.killTimer);
    run.killTimer = undefined;
    for (const follower of run.followers) follower(null);
    if (error) return fail(error.message);
    const signalNumber = signal ? osConstants.signals[signal] : undefined;
    const exitCode = code ?? 128 + (signalNumber ?? 0);

    let message = readLimited(terminationFile);
    if (!message && terminationFile !== (container.terminationMessagePath ?? DEFAULT_TERMINATION_PATH)) {
      // Honour a process that wrote to the real path itself, if it was written during this run.
      const own = container.terminationMessagePath ?? DEFAULT_TERMINATION_PATH;
      const stat = statSync(own, { throwIfNoEntry: false });
      if (stat?.isFile() && stat.mtimeMs >= startedMs) message = readLimited(own);
    }
    if (!message && exitCode !== 0 && container.terminationMessagePolicy === 'FallbackToLogsOnError') {
      message = tailLog(run.output);
    }
    return {
      exitCode,
      ...(signalNumber !== undefined ? { signal: signalNumber } : {}),
      reason: exitCode === 0 ? 'Completed' : 'Error',
      ...(message ? { message } : {}),
      startedAt,
      finishedAt: now(),
    };
  }
}

/**
 * Starts a test kubelet against the cluster of `kc` (usually `controlPlane.adminKubeConfig()`).
 *
 * The container runs in the repository root (or its `workingDir` when that exists locally) as
 * this user, with only PATH, HOME and HOSTNAME from the host plus its resolved env. Its
 * `terminationMessagePath` is mapped to a file named by `$KRITIK_TERMINATION_LOG`. Deleting a pod
 * SIGTERMs its process group (SIGKILL after the grace period); so do pod deadlines.
 * `readNamespacedPodLog` works through the kubelet's log endpoint (tailLines, limitBytes, follow).
 *
 * An emptyDir volume is a directory of the pod (env values naming its mount path are pointed
 * there) whose peak size is sampled on every change; it is never evicted over its sizeLimit.
 *
 * Not emulated: containers after the first, init containers, other volumes, probes, resource limits,
 * security contexts, node heartbeats (run kube-controller-manager without node-lifecycle).
 */
export async function startTestKubelet(kc: KubeConfig, options: TestKubeletOptions): Promise<TestKubelet> {
  const dir = mkdtempSync(join(tmpdir(), 'kritik-kubelet-'));
  const kubelet = new Kubelet(
    kc,
    options.nodeName ?? DEFAULT_NODE_NAME,
    options.namespaces,
    options.entrypoints ?? {},
    dir,
  );
  try {
    await kubelet.start(kc);
  } catch (error) {
    await kubelet.stop();
    throw error;
  }
  return kubelet;
}
