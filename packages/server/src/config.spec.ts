import { ENV, REVIEW_RETENTION_DAYS, TRIGGER_DEFAULTS } from '@kritik/core';
import { TempDir } from '@kritik/testing';
import { z } from 'zod';
import {
  boolSetting,
  ConfigError,
  DEFAULT_HISTORY_SETTINGS,
  DEFAULT_TRIGGER_SETTINGS,
  describeConfigProblems,
  exportLines,
  historyEnv,
  historySettingsSchema,
  intSetting,
  listSetting,
  loadConfig,
  triggerEnv,
  triggerSettingsSchema,
} from './config.js';

const schema = z.object({
  port: intSetting().min(1).max(65535).default(8080),
  redis: z.object({ url: z.string().url() }),
  github: z.object({ webhookSecret: z.string().min(16), botName: z.string().default('kritik') }),
  drafts: boolSetting().default(false),
  repos: listSetting().default([]),
});
const env = {
  PORT: 'port',
  REDIS_URL: 'redis.url',
  GITHUB_WEBHOOK_SECRET: 'github.webhookSecret',
  KRITIK_REVIEW_DRAFTS: 'drafts',
  KRITIK_REPOS: 'repos',
};

const temp = new TempDir('kritik-config-');
afterAll(() => temp.remove());
const yamlFile = (text: string) => temp.write('config.yaml', text);

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe(loadConfig.name, () => {
  const valid = { REDIS_URL: 'redis://127.0.0.1:6379', GITHUB_WEBHOOK_SECRET: 'a-very-long-secret' };

  it('builds a typed object from environment strings', () => {
    const sut = loadConfig({
      schema,
      env,
      source: { ...valid, PORT: '9090', KRITIK_REVIEW_DRAFTS: 'yes', KRITIK_REPOS: 'acme/*, acme/api' },
    });
    expect(sut).toEqual({
      port: 9090,
      redis: { url: 'redis://127.0.0.1:6379' },
      github: { webhookSecret: 'a-very-long-secret', botName: 'kritik' },
      drafts: true,
      repos: ['acme/*', 'acme/api'],
    });
  });

  it('names every bad variable in one error', () => {
    const sut = errorOf(() => loadConfig({ schema, env, source: { PORT: 'eighty', REDIS_URL: 'not a url' } }));
    expect(sut.problems.map((p) => p.source).sort()).toEqual(['GITHUB_WEBHOOK_SECRET', 'PORT', 'REDIS_URL']);
    expect(sut.message).toMatch(/GITHUB_WEBHOOK_SECRET: is required/);
  });

  it('never quotes a rejected value in the error', () => {
    const sut = errorOf(() => loadConfig({ schema, env, source: { ...valid, GITHUB_WEBHOOK_SECRET: 'short-secret' } }));
    expect(sut.message).toMatch(/GITHUB_WEBHOOK_SECRET/);
    expect(sut.message).not.toContain('short-secret');
  });

  it('treats an empty variable as unset', () => {
    const sut = loadConfig({ schema, env, source: { ...valid, PORT: '' } });
    expect(sut.port).toBe(8080);
  });

  it('reads the YAML file named by KRITIK_CONFIG with environment variables taking precedence', () => {
    const file = yamlFile(
      'port: 7000\ngithub:\n  botName: reviewer\n  webhookSecret: from-the-file-secret\nrepos: [a/b]\n',
    );
    const sut = loadConfig({ schema, env, source: { KRITIK_CONFIG: file, REDIS_URL: valid.REDIS_URL, PORT: '7001' } });
    expect(sut.port).toBe(7001);
    expect(sut.github).toEqual({ webhookSecret: 'from-the-file-secret', botName: 'reviewer' });
    expect(sut.repos).toEqual(['a/b']);
  });

  it('names the file path of a bad setting that came from the file', () => {
    const file = yamlFile('github:\n  botName: 7\n');
    const sut = errorOf(() => loadConfig({ schema, env, source: { ...valid, KRITIK_CONFIG: file } }));
    expect(sut.problems.map((p) => p.source)).toEqual([`github.botName in ${file}`]);
  });

  it('reports an unreadable file next to the other problems', () => {
    const sut = errorOf(() => loadConfig({ schema, env, source: { KRITIK_CONFIG: '/nonexistent/kritik.yaml' } }));
    expect(sut.problems.map((p) => p.source)).toContain('KRITIK_CONFIG (/nonexistent/kritik.yaml)');
    expect(sut.problems.map((p) => p.source)).toContain('REDIS_URL (or redis.url in /nonexistent/kritik.yaml)');
  });
});

describe('triggerSettingsSchema', () => {
  const triggers = z.object({ triggers: triggerSettingsSchema.default(DEFAULT_TRIGGER_SETTINGS) });
  const load = (source: NodeJS.ProcessEnv) => loadConfig({ schema: triggers, env: triggerEnv('triggers'), source });

  it('defaults every setting from core', () => {
    expect(load({}).triggers).toEqual(TRIGGER_DEFAULTS);
  });

  it('reads each setting from its variable in core ENV', () => {
    const sut = load({
      [ENV.botName]: 'review-bot',
      [ENV.triggerLabel]: 'needs: "review"',
      [ENV.debounceMs]: '500',
      [ENV.reviewDrafts]: 'yes',
      [ENV.reviewBots]: 'true',
    });
    expect(sut.triggers).toEqual({
      botName: 'review-bot',
      label: 'needs: "review"',
      debounceMs: 500,
      reviewDrafts: true,
      reviewBots: true,
    });
  });

  it('names every bad variable: a login with markup, a negative debounce, a non-boolean', () => {
    const sut = errorOf(() =>
      load({ [ENV.botName]: '@bot](javascript:x)', [ENV.debounceMs]: '-1', [ENV.reviewBots]: 'maybe' }),
    );
    expect(sut.problems.map((p) => p.source).sort()).toEqual([ENV.botName, ENV.debounceMs, ENV.reviewBots].sort());
  });

  it('refuses an unknown key in the file, so a misspelt setting is not silently dropped', () => {
    const file = yamlFile('triggers:\n  lable: ai-review\n');
    const sut = errorOf(() => load({ KRITIK_CONFIG: file }));
    expect(sut.problems.map((p) => p.message).join()).toMatch(/lable/);
  });
});

describe('historySettingsSchema', () => {
  const history = z.object({ history: historySettingsSchema.default(DEFAULT_HISTORY_SETTINGS) });
  const load = (source: NodeJS.ProcessEnv) => loadConfig({ schema: history, env: historyEnv('history'), source });

  it('keeps records 30 days unless told', () => {
    expect(load({}).history).toEqual({ recordDays: REVIEW_RETENTION_DAYS.default });
    expect(REVIEW_RETENTION_DAYS.default).toBe(30);
  });

  it('reads the retention from its variable', () => {
    expect(load({ [ENV.reviewRetentionDays]: '90' }).history.recordDays).toBe(90);
  });

  it.each(['0', '366', '7.5', 'forever', '1e9'])('refuses %s days, naming the variable', (days) => {
    const sut = errorOf(() => load({ [ENV.reviewRetentionDays]: days }));
    expect(sut.problems.map((p) => p.source)).toEqual([ENV.reviewRetentionDays]);
  });
});

describe(describeConfigProblems.name, () => {
  const problems = [
    { service: 'standalone', problems: [] },
    { service: 'backend', problems: [{ source: 'GITHUB_WEBHOOK_SECRET', message: 'is required' }] },
    {
      service: 'worker',
      problems: [
        { source: 'GITHUB_APP_ID', message: 'is required' },
        { source: 'GITHUB_WEBHOOK_SECRET (or github.webhookSecret in k.yaml)', message: 'is required' },
        { source: 'queue.concurrency in k.yaml', message: 'Too small' },
      ],
    },
  ];

  it('lists every problem of every failing service under its name', () => {
    const sut = describeConfigProblems(problems);

    expect(sut).toContain('Kritik cannot start: 4 setting(s) need fixing.');
    expect(sut).toContain('backend:\n  - GITHUB_WEBHOOK_SECRET: is required\nworker:\n  - GITHUB_APP_ID: is required');
    expect(sut).not.toContain('standalone:');
  });

  it('gives one export line per variable, each once, and none for a file-only setting', () => {
    expect(exportLines(problems)).toEqual(['export GITHUB_WEBHOOK_SECRET=…', 'export GITHUB_APP_ID=…']);
  });
});
