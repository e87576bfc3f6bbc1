// POST /webhooks/github and /webhooks/gitlab as Nest routes. The HTTP server answers exactly this path itself,
// before Express (webhooks.route.ts); this route serves the spellings Express also matches
// (trailing slash, other letter case), so both reach the same receiver.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Post, Req, Res } from '@nestjs/common';
import { WebhookReceiver } from './webhooks.receiver.js';

@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly receiver: WebhookReceiver) {}

  @Post('github')
  github(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.receiver.receive(req, res, 'github');
  }

  @Post('gitlab')
  gitlab(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.receiver.receive(req, res, 'gitlab');
  }
}
