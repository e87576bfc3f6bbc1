// The whole platform on one machine for end-to-end tests and the bench: real Redis, the real
// control plane with a test kubelet, the chart installed by the real helm, and the backend and
// worker as local processes from their built dist/main.js with the env the chart gives their pods
// (the worker acting as its ServiceAccount). Only GitHub and Anthropic are fakes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, isFinalStatus, type ReviewRecord, type ReviewStatus } from '@kritik/core';
import {
  type ControlPlane,
  type Delivery,
  delivery,
  FAST_SCHEDULING,
  freePorts,
  type ManagedProcess,
  pullRequestPayload,
  repoRoot,
  ServiceImage,
  sendWebhook,
  startControlPlane,
  startProcess,
  startRedis,
  startSentinelSet,
  startTestKubelet,
  type TestKubelet,
  type TestRedis,
  type TestSentinelSet,
  type WebhookAnswer,
  waitUntil,
} from '@kritik/testing';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { installChart } from './chart.js';
import { type ContainerRuntime, deploymentRuntime } from './deployment-env.js';
import {
  GITLAB_SECRET_NAME,
  GITLAB_WEBHOOK_SECRET,
  type GitLabDelivery,
  GitLabWorld,
  sendGitLabWebhook,
} from './gitlab.js';
import { ObjectRecorder } from './recorder.js';

import { ANTHROPIC_API_KEY, API_TOKEN, APP_ID, type PullRequestRef, WEBHOOK_SECRET, World } from './world.js';

export const RELEASE = { name: 'kritik', namespace: 'kritik' } as const;
export const JOBS_NAMESPACE = 'kritik-jobs';
/** The reviewer image the chart names by default. */
export const REVIEWER_IMAGE = 'ghcr.io/kritik-dev/kritik-reviewer';

/**
 * What the reviewer image runs for a container that sets neither command nor args, read from its
 * Dockerfile, so the test kubelet runs what the image would.
 */
export function reviewerImageCommand(): string[] {
  return ServiceImage.load(repoRoot(), 'reviewer').startCommand;
}

export interface PlatformOptions {
  /** Chart values merged over the platform's own (e.g. `reviewJob`, `config`). */
  readonly values?: Record<string, unknown>;
  /** Keep Redis data across `redis.restart()` (append-only file). */
  readonly persistRedis?: boolean;
  /**
   * Redis as a master, a replica and a sentinel, given to the chart as `externalRedis.sentinels`;
   * `redis` is then the first master.
   */
  readonly sentinel?: boolean;
  /**
   * GitLab beside GitHub: the GitLab fake (`platform.gitlabWorld`), its token and webhook secret in
   * the Secret `gitlab.existingSecret` names, and `gitlab.enabled` with the fake's URL.
   */
  readonly gitlab?: boolean;
}

const SERVICES = ['backend', 'worker'] as const;
type Service = (typeof SERVICES)[number];

const BUILD_INPUTS = [
  'packages/core',
  'packages/server',
  'services/reviewer',
  'services/backend',
  'services/worker',
  'packages/standalone',
];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** Builds the services with `tsc -b` when a dist/main.js is missing or older than its sources. */
export function ensureBuilt(): void {
  const root = repoRoot();
  const stale = BUILD_INPUTS.some((pkg) => {
    const info = join(root, pkg, 'dist', '.tsbuildinfo');
    return !existsSync(info) || newestSource(join(root, pkg, 'src')) > statSync(info).mtimeMs;
  });
  const missing = ['backend', 'worker', 'reviewer'].some(
    (s) => !existsSync(join(root, 'services', s, 'dist', 'main.js')),
  );
  if (!stale && !missing) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...BUILD_INPUTS], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`the services do not build (tsc -b ${BUILD_INPUTS.join(' ')}):\n${output.slice(0, 4_000)}`);
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const bothObjects = [current, value].every((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
    out[key] = bothObjects ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

export class Platform {
  readonly processes: Record<Service, ManagedProcess>;
  private readonly urls: Record<Service, string>;
  private starts = 0;

  private constructor(
    readonly dir: string,
    readonly plane: ControlPlane,
    readonly redis: TestRedis,
    readonly world: World,
    readonly kubelet: TestKubelet,
    readonly recorder: ObjectRecorder,
    private readonly runtimes: Record<Service, ContainerRuntime & { overrides: Record<string, string> }>,
    readonly sentinelSet?: TestSentinelSet,
    /** The GitLab fake and its project, with `PlatformOptions.gitlab`. */
    readonly gitlabWorld?: GitLabWorld,
  ) {
    this.processes = {} as Record<Service, ManagedProcess>;
    this.urls = Object.fromEntries(
      SERVICES.map((s) => [s, `http://127.0.0.1:${this.runtimes[s].overrides.PORT}`]),
    ) as Record<Service, string>;
  }

  static async start(options: PlatformOptions = {}): Promise<Platform> {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'kritik-e2e-'));
    const [plane, sentinelSet, world, gitlabWorld] = await Promise.all([
      startControlPlane(),
      options.sentinel ? startSentinelSet() : undefined,
      World.start({ anthropicApiKey: ANTHROPIC_API_KEY }),
      options.gitlab ? GitLabWorld.start() : undefined,
    ]);
    const redis = sentinelSet?.master ?? (await startRedis({ persist: options.persistRedis ?? false }));
    const stopRedis = () => (sentinelSet ? sentinelSet.stop() : redis.stop());
    const values = deepMerge(
      {
        logLevel: 'debug',
        github: {
          apiUrl: world.github.url,
          appId: APP_ID,
          privateKey: world.privateKeyPem,
          webhookSecret: WEBHOOK_SECRET,
        },
        anthropic: { apiKey: ANTHROPIC_API_KEY, baseUrl: world.anthropic.url },
        api: { token: API_TOKEN },
        redis: { enabled: false },
        externalRedis: sentinelSet
          ? { sentinels: [sentinelSet.sentinel], sentinelMasterName: sentinelSet.masterName }
          : { url: redis.url },
        reviewJob: {
          // Long enough for the worker to read the result, short enough to see the cleanup.
          ttlSecondsAfterFinished: 10,
        },
        worker: { config: { scheduling: FAST_SCHEDULING, kubernetes: { deadlineMarginSeconds: 5 } } },
        ...(gitlabWorld ? { gitlab: { enabled: true, url: gitlabWorld.url, existingSecret: GITLAB_SECRET_NAME } } : {}),
      },
      options.values ?? {},
    );
    let kubelet: TestKubelet | undefined;
    let recorder: ObjectRecorder | undefined;
    let platform: Platform | undefined;
    try {
      const admin = plane.adminKubeConfig();
      // Created outside the chart, as docs/install.md says; before the pods' env is resolved.
      if (gitlabWorld) await createGitLabSecret(admin, gitlabWorld.token);
      await installChart(RELEASE, values, plane.kubeconfigPath);
      kubelet = await startTestKubelet(admin, {
        namespaces: [JOBS_NAMESPACE],
        entrypoints: { [REVIEWER_IMAGE]: reviewerImageCommand() },
      });
      recorder = await ObjectRecorder.start(admin, JOBS_NAMESPACE);
      const workerKubeconfig = join(dir, 'worker.kubeconfig');
      const workerIdentity = await plane.kubeConfigFor(RELEASE.namespace, `${RELEASE.name}-worker`);
      writeFileSync(workerKubeconfig, workerIdentity.exportConfig(), { mode: 0o600 });
      const [backend, worker] = await Promise.all(
        SERVICES.map((s) => deploymentRuntime(admin, RELEASE.namespace, `${RELEASE.name}-${s}`, dir)),
      );
      const [backendPort, workerPort, backendMetrics, workerMetrics, gatewayPort] = await freePorts(5);
      // Two pods' ports on one machine: each process gets free ones in place of the chart's.
      platform = new Platform(
        dir,
        plane,
        redis,
        world,
        kubelet,
        recorder,
        {
          backend: {
            ...backend!,
            overrides: {
              PORT: String(backendPort),
              [ENV.metricsPort]: String(backendMetrics),
              KRITIK_HOST: '127.0.0.1',
            },
          },
          worker: {
            ...worker!,
            overrides: {
              PORT: String(workerPort),
              [ENV.metricsPort]: String(workerMetrics),
              KUBECONFIG: workerKubeconfig,
              // Review processes reach the gateway on this machine, not through the worker's Service.
              ...(worker!.env[ENV.gatewayUrl]
                ? { [ENV.gatewayPort]: String(gatewayPort), [ENV.gatewayUrl]: `http://127.0.0.1:${gatewayPort}` }
                : {}),
            },
          },
        },
        sentinelSet,
        gitlabWorld,
      );
      const started = platform;
      await Promise.all(SERVICES.map((s) => started.startService(s)));
      return started;
    } catch (error) {
      if (platform) await platform.stop();
      else {
        recorder?.stop();
        await kubelet?.stop();
        await Promise.all([plane.stop(), stopRedis(), world.stop(), gitlabWorld?.stop()]);
        rmSync(dir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  get backendUrl(): string {
    return this.urls.backend;
  }

  get workerUrl(): string {
    return this.urls.worker;
  }

  get github() {
    return this.world.github;
  }

  get anthropic() {
    return this.world.anthropic;
  }

  /** The env a service process runs with: the pod's, plus a local port (and kubeconfig for the worker). */
  serviceEnv(service: Service): Record<string, string> {
    const runtime = this.runtimes[service];
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.dir,
      ...runtime.env,
      ...runtime.overrides,
    };
  }

  /** Starts `node services/<service>/dist/main.js` and waits until its /ready answers 200. */
  async startService(service: Service): Promise<ManagedProcess> {
    const logFile = join(this.dir, `${service}-${++this.starts}.log`);
    const main = join(repoRoot(), 'services', service, 'dist', 'main.js');
    const proc = startProcess(service, process.execPath, [main], {
      logFile,
      cwd: repoRoot(),
      env: this.serviceEnv(service),
    });
    this.processes[service] = proc;
    await waitUntil(
      `${service} ${this.urls[service]}/ready`,
      async () => ((await fetch(`${this.urls[service]}/ready`)).status === 200 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 200, proc },
    );
    return proc;
  }

  /** `kill -9` of the worker (nothing graceful), then a fresh one with the same env. */
  async killAndRestartWorker(): Promise<void> {
    await this.processes.worker.stop(0);
    await this.startService('worker');
  }

  /** POSTs a GitLab hook delivery with the webhook secret the platform was given (or `token`). */
  gitlabWebhook(d: GitLabDelivery, token = GITLAB_WEBHOOK_SECRET): Promise<WebhookAnswer> {
    return sendGitLabWebhook(this.backendUrl, token, d);
  }

  webhook(d: Delivery): Promise<WebhookAnswer> {
    return sendWebhook(this.backendUrl, WEBHOOK_SECRET, d);
  }

  /** A signed `pull_request` delivery for `pr`. */
  pullRequestEvent(action: string, pr: PullRequestRef, id?: string): Delivery {
    return delivery('pull_request', pullRequestPayload(action, pr), id);
  }

  /** Opens a PR on the fake and delivers `pull_request.opened`; expects 202 and returns the review id. */
  async openPullRequest(repo?: string): Promise<{ pr: PullRequestRef; reviewId: string }> {
    const pr = this.world.openPullRequest(repo);
    const answer = await this.webhook(this.pullRequestEvent('opened', pr));
    if (answer.status !== 202 || typeof answer.body.reviewId !== 'string') {
      throw new Error(`pull_request.opened got ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return { pr, reviewId: answer.body.reviewId };
  }

  /** GET /api/reviews/:id with the API token. */
  async apiReview(reviewId: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.backendUrl}/api/reviews/${reviewId}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  }

  /** The review record through the API once its status is one of `statuses` (default: final). */
  waitForReview(
    reviewId: string,
    options: { timeoutMs?: number; statuses?: readonly ReviewStatus[] } = {},
  ): Promise<ReviewRecord> {
    const wanted = (s: ReviewStatus) => (options.statuses ? options.statuses.includes(s) : isFinalStatus(s));
    return waitUntil(
      `review ${reviewId} to be ${options.statuses?.join('|') ?? 'final'}`,
      async () => {
        const { status, body } = await this.apiReview(reviewId);
        const record = (status === 200 ? body : undefined) as ReviewRecord | undefined;
        return record && wanted(record.status) ? record : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 90_000, intervalMs: 250, proc: Object.values(this.processes) },
    );
  }

  /** The last lines of a service's current log, for failure messages. */
  tail(service: Service, lines = 40): string {
    return this.processes[service]?.tail(lines) ?? '';
  }

  async stop(): Promise<void> {
    this.recorder.stop();
    await Promise.all(SERVICES.map((s) => this.processes[s]?.stop(5_000)));
    await this.kubelet.stop();
    await Promise.all([
      this.plane.stop(),
      (this.sentinelSet ?? this.redis).stop(),
      this.world.stop(),
      this.gitlabWorld?.stop(),
    ]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The release namespace with the Secret `gitlab.existingSecret` names: the token and the webhook secret. */
async function createGitLabSecret(admin: KubeConfig, token: string): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: RELEASE.namespace } } });
  await core.createNamespacedSecret({
    namespace: RELEASE.namespace,
    body: {
      metadata: { name: GITLAB_SECRET_NAME },
      stringData: { token, 'webhook-secret': GITLAB_WEBHOOK_SECRET },
    },
  });
}
