// Builds the status a worker replica publishes for the Platform page from what it knows: its
// runner's permission check, version, reviewer image, load. Pure; the publisher does the I/O.
import { imageDigest, type PermissionCheck, REQUIRED_PERMISSIONS, type WorkerStatus } from '@kritik/core';
import {
  type AccessReport,
  accessGranted,
  accessQuestions,
  describeAccess,
  describeReport,
  LOCAL_RUNNER_ACCESS,
} from '../kubernetes/access-check.js';
import type { RunnerKind } from '../runner/review-runner.js';

export interface WorkerStatusInput {
  readonly replica: string;
  readonly version: string;
  /** The reviewer image reference as configured. */
  readonly reviewerImage: string;
  readonly runner: RunnerKind;
  /** Where review Jobs run (the kubernetes runner). */
  readonly namespace: string | undefined;
  /** The kubernetes runner's last permission check (undefined until the first). */
  readonly access: AccessReport | undefined;
  readonly running: number;
  readonly concurrency: number;
  readonly startedAt: Date;
  readonly now: Date;
}

/** Error texts come from the cluster client: no credentials in URLs, bounded length. */
export function publishable(text: string, max: number): string {
  const clean = text.replace(/(\w+:\/\/)[^\s/@]*@/g, '$1').replace(/\p{Cc}+/gu, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function permissionChecks(access: AccessReport | undefined): PermissionCheck[] {
  const known = access !== undefined && access.error === undefined;
  return accessQuestions(REQUIRED_PERMISSIONS).map((q) => {
    const permission = describeAccess(q);
    return {
      permission,
      state: !known ? 'unknown' : access.missing.includes(permission) ? 'missing' : 'granted',
    };
  });
}

function remedy(access: AccessReport | undefined): string | undefined {
  if (access?.error !== undefined) {
    return `The worker cannot ask the Kubernetes API about its permissions: check that it reaches the API server and that namespace "${access.namespace}" exists.`;
  }
  if (!access || access.missing.length === 0) return undefined;
  return `Grant ${access.missing.join(', ')} in the worker's Role in namespace "${access.namespace}": the chart generates that Role from REQUIRED_PERMISSIONS, so upgrading the release restores it.`;
}

export function buildWorkerStatus(input: WorkerStatusInput): WorkerStatus {
  const kubernetes = input.runner === 'kubernetes';
  const digest = imageDigest(input.reviewerImage);
  const fix = kubernetes ? remedy(input.access) : undefined;
  return {
    replica: publishable(input.replica, 253),
    version: publishable(input.version, 64),
    reviewerImage: { ref: publishable(input.reviewerImage, 512), ...(digest ? { digest } : {}) },
    runner: input.runner,
    ready: !kubernetes || accessGranted(input.access),
    reason: kubernetes ? publishable(describeReport(input.access), 1000) : LOCAL_RUNNER_ACCESS,
    ...(fix ? { remedy: publishable(fix, 500) } : {}),
    permissions: kubernetes ? permissionChecks(input.access) : [],
    namespace: kubernetes ? (input.namespace ?? input.access?.namespace ?? null) : null,
    running: Math.max(0, Math.trunc(input.running)),
    concurrency: input.concurrency,
    startedAt: input.startedAt.toISOString(),
    lastBeat: input.now.toISOString(),
  };
}
