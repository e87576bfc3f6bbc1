// The reviewer's own time budget inside a review Job: a little under the Job's
// activeDeadlineSeconds, so the reviewer stops asking the model and posts what it has before
// Kubernetes kills it. The worker sets it on every Job; the reviewer reads it.
export const REVIEW_DEADLINE_ENV = 'KRITIK_DEADLINE_SECONDS';

/** 90% of the Job deadline (540 s of the default 600 s), at least one second. */
export const reviewerDeadlineSeconds = (activeDeadlineSeconds: number) =>
  Math.max(1, Math.floor(activeDeadlineSeconds * 0.9));
