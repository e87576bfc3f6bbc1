// The dashboard's API client: every answer is parsed with the backend's own zod schemas from
// @kritik/core, so a contract change breaks the build or fails loudly, never renders garbage.
import {
  CSRF_HEADER,
  DASHBOARD_API,
  type DashboardSession,
  dashboardSessionSchema,
  type PlatformStatus,
  platformStatusSchema,
  type Repositories,
  type RepositoryRules,
  type RepositoryRulesQuery,
  type ReviewFilters,
  type ReviewPage,
  type ReviewRecord,
  repositoriesSchema,
  repositoryRulesSchema,
  reviewEventSchema,
  reviewPageSchema,
  reviewRecordSchema,
  type SignInProviders,
  signInProvidersSchema,
} from '@kritik/core/dashboard';
import type { z } from 'zod';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: unknown };
    const message = Array.isArray(body.message) ? body.message.join('; ') : String(body.message ?? response.statusText);
    throw new ApiError(response.status, message);
  }
  return schema.parse(await response.json());
}

export const api = {
  /** The signed-in user, or undefined when nobody is. */
  async session(): Promise<DashboardSession | undefined> {
    try {
      return await call(dashboardSessionSchema, DASHBOARD_API.session);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return undefined;
      throw error;
    }
  },
  /** The code hosts one can sign in with (asked without a session). */
  providers: (): Promise<SignInProviders> => call(signInProvidersSchema, DASHBOARD_API.providers),
  reviews(filters: ReviewFilters): Promise<ReviewPage> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters))
      if (value !== undefined && value !== '') query.set(name, String(value));
    return call(reviewPageSchema, `${DASHBOARD_API.reviews}?${query}`);
  },
  review: (id: string): Promise<ReviewRecord> => call(reviewRecordSchema, DASHBOARD_API.review(id)),
  async reviewAgain(id: string, csrf: string): Promise<string> {
    const response = await fetch(DASHBOARD_API.reviewAgain(id), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { [CSRF_HEADER]: csrf },
    });
    if (!response.ok) throw new ApiError(response.status, `review again failed (${response.status})`);
    return ((await response.json()) as { reviewId: string }).reviewId;
  },
  repositories: (): Promise<Repositories> => call(repositoriesSchema, DASHBOARD_API.repositories),
  platform: (): Promise<PlatformStatus> => call(platformStatusSchema, DASHBOARD_API.platform),
  rules: (which: RepositoryRulesQuery): Promise<RepositoryRules> =>
    call(repositoryRulesSchema, `${DASHBOARD_API.rules}?${new URLSearchParams(which)}`),
  async removeRule(which: RepositoryRulesQuery, fingerprint: string, csrf: string): Promise<void> {
    const response = await fetch(`${DASHBOARD_API.rule(fingerprint)}?${new URLSearchParams(which)}`, {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { [CSRF_HEADER]: csrf },
    });
    if (!response.ok) throw new ApiError(response.status, `removing the rule failed (${response.status})`);
  },
  async logout(): Promise<void> {
    await fetch(DASHBOARD_API.logout, { method: 'POST', credentials: 'same-origin' });
  },
  /** Calls `onReview` with each review created or changed; returns the function that stops it. */
  watch(onReview: (review: ReviewRecord) => void): () => void {
    const source = new EventSource(DASHBOARD_API.events);
    source.addEventListener('review', (event) => {
      const parsed = reviewEventSchema.safeParse(JSON.parse((event as MessageEvent<string>).data));
      if (parsed.success) onReview(parsed.data.review);
    });
    return () => source.close();
  },
};
