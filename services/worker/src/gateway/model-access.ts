// How each review reaches the model, decided once per worker: through the model gateway with a
// token that lives as long as the review, or directly (the CLI's way, and installs that keep the
// key in the jobs namespace).
import { type ModelSettings, modelEnv } from '@kritik/core';
import type { ModelAccess } from '../runner/review-runner.js';
import type { GatewayGrants, GatewaySpend } from './gateway-grants.js';

/** Injection token of the worker's {@link ModelAccessIssuer}. */
export const MODEL_ACCESS = 'KRITIK_MODEL_ACCESS';

export interface ModelAccessIssuer {
  /** Access for one running review (the same again for a review adopted from another worker). */
  open(reviewId: string, maxCostUsd: number): Promise<ModelAccess>;
  /**
   * What the review's model calls cost, as metered where they passed (before `close`); undefined
   * when nothing metered them (direct access: only the reviewer's own report knows).
   */
  spent(reviewId: string): Promise<GatewaySpend | undefined>;
  /** The review ended: whatever it was given stops working. */
  close(reviewId: string): Promise<void>;
}

export class DirectModelAccess implements ModelAccessIssuer {
  constructor(
    private readonly baseUrl?: string,
    /** The provider the reviewer calls itself, with the Job's own (workload) identity. */
    private readonly model?: ModelSettings,
  ) {}

  async open(): Promise<ModelAccess> {
    return {
      kind: 'direct',
      ...(this.baseUrl ? { baseUrl: this.baseUrl } : {}),
      ...(this.model ? { env: modelEnv(this.model, 'direct') } : {}),
    };
  }

  async spent(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {}
}

export class GatewayModelAccess implements ModelAccessIssuer {
  constructor(
    private readonly grants: GatewayGrants,
    /** Where review Jobs reach the gateway. */
    private readonly url: string,
    /** A grant outlives its review's deadline by nothing more than the worker's margin. */
    private readonly ttlSeconds: number,
    private readonly model?: ModelSettings,
  ) {}

  async open(reviewId: string, maxCostUsd: number): Promise<ModelAccess> {
    return {
      kind: 'gateway',
      baseUrl: this.url,
      token: await this.grants.issue(reviewId, maxCostUsd, this.ttlSeconds),
      ...(this.model ? { env: modelEnv(this.model, 'gateway') } : {}),
    };
  }

  spent(reviewId: string): Promise<GatewaySpend | undefined> {
    return this.grants.spent(reviewId);
  }

  close(reviewId: string): Promise<void> {
    return this.grants.revoke(reviewId);
  }
}
