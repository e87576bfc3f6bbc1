// How tests and benches start Debian's chromium (installed by scripts/tools.sh, never a
// downloaded build): headless, no sandbox (containers), nothing phoning home, a fresh profile.
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
} as const;

/** The colour emoji font: reviews mark severity with emoji, which render as empty boxes without it. */
export const EMOJI_FONT = '/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf';
