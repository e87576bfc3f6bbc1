// Bearer-token guard of the reviews API (KRITIK_API_TOKEN). Without a configured token every
// request is refused: the API never serves data unauthenticated.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend.config.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(BACKEND_CONFIG) config: BackendConfig) {
    this.expected = config.apiToken ? digest(config.apiToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<IncomingMessage>();
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    // Comparing digests keeps the comparison constant-time whatever the token lengths.
    if (this.expected && match && timingSafeEqual(digest(match[1]!), this.expected)) return true;
    throw new UnauthorizedException(
      this.expected ? 'a valid bearer token is required' : 'the reviews API is disabled: KRITIK_API_TOKEN is not set',
    );
  }
}
