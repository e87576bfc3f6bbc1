// Dashboard sessions in Redis, under a digest of their id: who signed in on which code host, their
// user token (never sent to the browser), the CSRF token, and the repositories they reach with its check time.
import { createHash, randomBytes } from 'node:crypto';
import { platformSchema } from '@kritik/core';
import { REDIS } from '@kritik/server';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const sessionSchema = z.object({
  /** Sessions stored before GitLab sign-in have no platform: they are GitHub's. */
  platform: platformSchema.default('github'),
  login: z.string(),
  token: z.string(),
  /** GitLab's tokens expire (2 h): refreshed with this before `tokenExpiresAt`. */
  refreshToken: z.string().optional(),
  tokenExpiresAt: z.number().optional(),
  csrf: z.string(),
  repos: z.array(z.string()),
  /** Member of the admin team (GitHub) or group (GitLab), as of `reposCheckedAt`. */
  teamAdmin: z.boolean(),
  reposCheckedAt: z.number(),
  expiresAt: z.number(),
});
export type Session = z.infer<typeof sessionSchema>;
/** What the user reaches, read from the code host with their token. */
export type Access = Pick<Session, 'repos' | 'teamAdmin'>;
/** The user's token and, on GitLab, how it is refreshed. */
export type Tokens = Pick<Session, 'token' | 'refreshToken' | 'tokenExpiresAt'>;

const key = (id: string) => `kritik:session:${createHash('sha256').update(id).digest('hex')}`;

@Injectable()
export class SessionStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Stores a new session for `ttlSeconds`; returns its id (the cookie's value before signing). */
  async create(
    data: Omit<Session, 'csrf' | 'expiresAt'>,
    ttlSeconds: number,
    now = Date.now(),
  ): Promise<{ id: string; session: Session }> {
    const id = randomBytes(24).toString('base64url');
    const session: Session = {
      ...data,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: now + ttlSeconds * 1000,
    };
    await this.redis.set(key(id), JSON.stringify(session), 'EX', ttlSeconds);
    return { id, session };
  }

  async get(id: string, now = Date.now()): Promise<Session | undefined> {
    const raw = await this.redis.get(key(id));
    if (raw === null) return undefined;
    const session = sessionSchema.parse(JSON.parse(raw));
    return session.expiresAt > now ? session : undefined;
  }

  /** Records a fresh read of the user's access (and refreshed tokens), keeping the session's expiry. */
  async updateAccess(
    id: string,
    session: Session,
    access: Access & Partial<Tokens>,
    now = Date.now(),
  ): Promise<Session> {
    const next = { ...session, ...access, reposCheckedAt: now };
    await this.redis.set(key(id), JSON.stringify(next), 'PXAT', session.expiresAt);
    return next;
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(key(id));
  }
}
