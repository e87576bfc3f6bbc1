// Comment commands (`@<bot> help`, `@<bot> review`, ...) that need a GitHub App installation token.
// The backend holds no App private key (ADR 0006), so it queues them for the worker, which
// answers `help` with a comment and resolves the head SHA of `review` before queueing a review.
import { z } from 'zod';
import { platformSchema, repoRefSchema, type Trigger } from './review.js';

export const COMMANDS_QUEUE = 'commands';

/**
 * `full-review` is written `full review`; only maintainers may use it (it re-reviews a reviewed head).
 * `pause` / `resume` switch the automatic reviews of one pull request off and on. `ask` and `explain`
 * are answered in a review Job (trigger `answer`), never queued as commands.
 */
export const COMMANDS = ['help', 'review', 'full-review', 'pause', 'resume', 'ask', 'explain', 'ignore'] as const;
export const commandSchema = z.enum(COMMANDS);
export type Command = z.infer<typeof commandSchema>;

/** One comment command on a pull request. Holds no credentials. */
export const commandJobSchema = z.object({
  command: commandSchema,
  platform: platformSchema,
  repo: repoRefSchema,
  pr: z.number().int().positive(),
  installationId: z.number().int().positive().optional(),
  /** The comment that asked, so the answer can quote or react to it. */
  commentId: z.number().int().positive().optional(),
  sender: z.string().optional(),
  /**
   * Set when the event did not say whether the sender may change the repository (GitLab's Note
   * Hook carries no role): the worker asks the code host for this user's access before a full
   * review, and answers a refusal in the conversation (docs/adr/0047).
   */
  senderRoleUnknown: z.object({ userId: z.number().int().positive() }).optional(),
  deliveryId: z.string().optional(),
  enqueuedAt: z.string().datetime(),
});
export type CommandJob = z.infer<typeof commandJobSchema>;

/** Commands are read in a comment's first characters only: a huge comment costs no more to parse. */
export const COMMAND_SCAN_CHARS = 16_000;

/** A mention of the bot outside quoted lines: the command it names, or the unknown word after it. */
export interface Mention {
  command?: Command;
  word?: string;
}

/** Reads the first mention of `@<bot>` in a comment's first characters (outside quoted lines). */
export function readMention(body: string, botName: string): Mention | undefined {
  const bot = botName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A command is written with spaces where its name has a hyphen (`full-review`: `full review`).
  const written = COMMANDS.map((c) => c.replace('-', '[ \\t]+')).join('|');
  const mention = new RegExp(
    `(?:^|[^\\w@/-])@${bot}(?:\\[bot\\])?(?![\\w-])(?:[ \\t]+(?:(${written})\\b|([A-Za-z][\\w-]*)))?`,
    'i',
  );
  for (const line of body.slice(0, COMMAND_SCAN_CHARS).split(/\r?\n/)) {
    if (line.trimStart().startsWith('>')) continue;
    const match = mention.exec(line);
    if (!match) continue;
    if (match[1]) return { command: match[1].toLowerCase().replace(/\s+/, '-') as Command };
    return match[2] ? { word: match[2] } : {};
  }
  return undefined;
}

/**
 * Parses `@<bot> <command>` anywhere in a comment (outside quoted lines); the first one wins. A
 * mention followed by a word that is no command asks for `help`, so a typo gets the list.
 */
export function parseCommand(body: string, botName: string): Command | undefined {
  const found = readMention(body, botName);
  return found?.command ?? (found?.word ? 'help' : undefined);
}

/** Commands answered in a conversation by a review Job rather than by the worker's command queue. */
export const isConversationCommand = (command: Command) =>
  command === 'ask' || command === 'explain' || command === 'ignore';

/** Commands that only switch this pull request's state: answered by the intake, acknowledged by the worker. */
export const isSwitchCommand = (command: Command) => command === 'pause' || command === 'resume';

/** The trigger of the review a command asks for (`help` asks for none, and is never asked). */
export const triggerOf = (command: Command): Trigger => (command === 'full-review' ? 'full_review' : 'comment');

/** The answer to `@<bot> help`, posted as a pull request comment. */
export function helpReply(botName: string, triggerLabel?: string): string {
  return [
    `**Kritik** reviews this pull request automatically when it is opened, updated or marked ready for review.`,
    '',
    'Commands (in a pull request comment):',
    `- \`@${botName} review\` — review the changes pushed since the last review`,
    `- \`@${botName} full review\` — review the whole pull request again, even a head already reviewed (maintainers)`,
    `- \`@${botName} ask <question>\` — ask about this change; the answer comes in the conversation`,
    `- in a finding's thread, reply with \`@${botName}\` and your question or \`@${botName} explain\`: the answer comes in that thread`,
    `- in a finding's thread, \`@${botName} ignore [reason]\` — dismiss the finding; Kritik learns the rule for this repository`,
    `- a 👎 on a finding, or resolving its thread yourself, dismisses it too`,
    `- \`@${botName} pause\` — stop the automatic reviews of this pull request (commands still work)`,
    `- \`@${botName} resume\` — start them again`,
    `- \`@${botName} help\` — show this message (also the answer to a command Kritik does not know)`,
    ...(triggerLabel ? [`- add the label \`${triggerLabel}\` — request a review`] : []),
    '',
    'Kritik reacts to a command it accepted at once. Commands are limited per user and pull request.',
    'Per-repository settings live in `.kritik.yaml` on the base branch.',
  ].join('\n');
}
