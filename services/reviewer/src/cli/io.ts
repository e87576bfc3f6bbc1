// What the command line touches outside itself, injectable so tests run it in-process.

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input. */
  readStdin: () => Promise<string>;
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, text: string) => Promise<void>;
  stdinIsTty: boolean;
}

/** Belt and braces: no progress line ever carries a credential. */
export function redact(
  message: string,
  secrets: { githubToken?: string; gitlabToken?: string; hostToken?: string; anthropicApiKey?: string },
): string {
  let out = message;
  for (const secret of [secrets.githubToken, secrets.gitlabToken, secrets.hostToken, secrets.anthropicApiKey]) {
    if (secret && secret.length >= 8) out = out.split(secret).join('***');
  }
  return out;
}
