// What asks for a review: the defaults and limits of the trigger settings, shared by the services'
// `triggers` config section (@kritik/server) and the chart's `triggers` values, which set both.

/** The defaults of bot name, trigger label, debounce and who is reviewed. */
export const TRIGGER_DEFAULTS = {
  botName: 'kritik',
  label: 'kritik:review',
  debounceMs: 2_000,
  reviewDrafts: false,
  reviewBots: false,
} as const;

/** The longest debounce: a review waiting longer for newer pushes would look lost. */
export const MAX_DEBOUNCE_MS = 600_000;

/** A GitHub login as mentioned in comments (`@kritik`), without `[bot]`. */
export const GITHUB_LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
