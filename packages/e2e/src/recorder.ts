// Watches the jobs namespace and keeps every Job and Secret it saw, so a test can assert what the
// worker created even after the TTL controller and the garbage collector have removed it.

import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { type KubeConfig, Watch } from '@kubernetes/client-node';

export interface Seen<T> {
  readonly object: T;
  readonly deleted: boolean;
}

export class ObjectRecorder {
  readonly jobs = new Map<string, Seen<V1Job>>();
  readonly secrets = new Map<string, Seen<V1Secret>>();
  /** How many times a Job of each name was created (a second create means a duplicate run). */
  readonly jobCreations = new Map<string, number>();
  private readonly aborts: AbortController[] = [];
  private stopped = false;

  private constructor(private readonly kc: KubeConfig) {}

  static async start(kc: KubeConfig, namespace: string): Promise<ObjectRecorder> {
    const recorder = new ObjectRecorder(kc);
    await Promise.all([
      recorder.follow<V1Job>(`/apis/batch/v1/namespaces/${namespace}/jobs`, recorder.jobs, true),
      recorder.follow<V1Secret>(`/api/v1/namespaces/${namespace}/secrets`, recorder.secrets, false),
    ]);
    return recorder;
  }

  private async follow<T extends { metadata?: { name?: string; uid?: string } }>(
    path: string,
    into: Map<string, Seen<T>>,
    countCreations: boolean,
  ): Promise<void> {
    const uids = new Set<string>();
    const start = async (): Promise<void> => {
      const abort = await new Watch(this.kc).watch(
        path,
        { allowWatchBookmarks: false },
        (phase, object: T) => {
          const name = object.metadata?.name;
          if (!name) return;
          const uid = object.metadata?.uid ?? '';
          if (countCreations && phase === 'ADDED' && !uids.has(uid)) {
            uids.add(uid);
            this.jobCreations.set(name, (this.jobCreations.get(name) ?? 0) + 1);
          }
          into.set(name, { object, deleted: phase === 'DELETED' });
        },
        () => {
          // A watch ends now and then; the next one lists again, which the uid set deduplicates.
          if (!this.stopped) setTimeout(() => void start().catch(() => undefined), 200);
        },
      );
      this.aborts.push(abort);
    };
    await start();
  }

  stop(): void {
    this.stopped = true;
    for (const abort of this.aborts) abort.abort();
  }
}
