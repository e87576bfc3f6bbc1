// What the dashboard's browser bundle imports from core (`@kritik/core/dashboard`): the API
// contract and the record schemas it parses, nothing that needs Node.
export * from './dashboard.js';
export { reviewJobName } from './kubernetes.js';
export {
  REVIEW_STATUSES,
  type ReviewRecord,
  type ReviewResult,
  type ReviewStatus,
  reviewRecordSchema,
  SEVERITIES,
} from './review.js';
