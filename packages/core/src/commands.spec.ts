import { helpReply, parseCommand } from './commands.js';

describe(parseCommand.name, () => {
  it('finds a command after a mention of the bot', () => {
    expect(parseCommand('@kritik review', 'kritik')).toBe('review');
  });

  it('reads `full review`, with any spacing and case, apart from `review`', () => {
    expect(
      ['@kritik full review', '@kritik Full\treview please', '@kritik review full'].map((b) =>
        parseCommand(b, 'kritik'),
      ),
    ).toEqual(['full-review', 'full-review', 'review']);
  });

  it('accepts the app form of the mention and any case', () => {
    expect(parseCommand('Thanks! @Kritik[bot] HELP please', 'kritik')).toBe('help');
  });

  it('ignores quoted lines, so replying to an earlier command does not repeat it', () => {
    expect(parseCommand('> @kritik review\nthanks', 'kritik')).toBeUndefined();
  });

  it('ignores mentions of other users and e-mail addresses', () => {
    expect(parseCommand('@kritikal review and ops@kritik review', 'kritik')).toBeUndefined();
  });

  it('answers an unknown command with help, and a bare mention with nothing', () => {
    expect(
      ['@kritik approve', 'thanks @kritik', '@kritik pause', '@kritik RESUME'].map((b) => parseCommand(b, 'kritik')),
    ).toEqual(['help', undefined, 'pause', 'resume']);
  });

  it('reads only the start of a huge comment', () => {
    const huge = `${'x'.repeat(20_000)}\n@kritik review`;
    expect(parseCommand(huge, 'kritik')).toBeUndefined();
    expect(parseCommand(`@kritik review\n${'\u202e<!--'.repeat(50_000)}`, 'kritik')).toBe('review');
  });
});

describe(helpReply.name, () => {
  it('names the bot in every command and the trigger label', () => {
    const sut = helpReply('reviewbot', 'needs-review');
    expect(sut).toContain('`@reviewbot review`');
    expect(sut).toContain('`@reviewbot help`');
    expect(sut).toContain('`@reviewbot full review`');
    expect(sut).toContain('`@reviewbot pause`');
    expect(sut).toContain('`@reviewbot resume`');
    expect(sut).toContain('`needs-review`');
  });
});
