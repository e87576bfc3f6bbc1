// What a model reply used, read from the bytes the provider sent, in each shape the gateway sees:
// a Messages JSON body, server-sent events (Anthropic's API, Vertex's streamRawPredict) and AWS
// event-stream frames (Bedrock's invoke-with-response-stream). Replies are hostile input: anything
// unreadable counts as no usage, never as a throw.
import type { TokenUsage } from '@kritik/core';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/** A reply's usage and the model it names (in the provider's ids), when it says. */
export interface ReplyUsage extends TokenUsage {
  readonly model?: string;
}

type Counts = { -readonly [K in keyof TokenUsage]?: number };

const FIELDS: readonly [keyof TokenUsage, string][] = [
  ['input', 'input_tokens'],
  ['output', 'output_tokens'],
  ['cacheRead', 'cache_read_input_tokens'],
  ['cacheWrite', 'cache_creation_input_tokens'],
];

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** Stream events carry running totals (message_start, then message_delta): a later figure replaces an earlier one. */
function absorb(into: Counts, usage: unknown): boolean {
  if (!usage || typeof usage !== 'object' || Array.isArray(usage)) return false;
  const u = usage as Record<string, unknown>;
  for (const [field, wire] of FIELDS) if (wire in u) into[field] = count(u[wire]);
  return true;
}

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Folds Messages stream events (or one whole message) into one usage. */
function fold(events: Iterable<unknown>): ReplyUsage | undefined {
  const counts: Counts = {};
  let model: string | undefined;
  let seen = false;
  for (const event of events) {
    const e = asRecord(event);
    if (!e) continue;
    // A whole message has its usage at the top; a stream's message_start nests the message.
    const message = e.type === 'message_start' ? asRecord(e.message) : e.type === 'message' ? e : undefined;
    if (message && typeof message.model === 'string') model = message.model;
    if (message) seen = absorb(counts, message.usage) || seen;
    if (e.type === 'message_delta') seen = absorb(counts, e.usage) || seen;
  }
  if (!seen) return undefined;
  return {
    input: counts.input ?? 0,
    output: counts.output ?? 0,
    cacheRead: counts.cacheRead ?? 0,
    cacheWrite: counts.cacheWrite ?? 0,
    ...(model ? { model } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The JSON data of each server-sent event. */
function* sseEvents(text: string): Generator<unknown> {
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data) yield parseJson(data);
  }
}

/** Bedrock's chunks: each event frame's JSON payload holds one Messages stream event, base64 in `bytes`. */
function* bedrockEvents(body: Buffer): Generator<unknown> {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  // Each frame starts with its total length; the codec checks its prelude and checksums.
  for (let at = 0; at + 4 <= body.length; ) {
    const length = body.readUInt32BE(at);
    if (length < 16 || at + length > body.length) return;
    let message: ReturnType<EventStreamCodec['decode']>;
    try {
      message = codec.decode(body.subarray(at, at + length));
    } catch {
      // A forged or torn frame ends the reading: what came before still counts.
      return;
    }
    at += length;
    if (message.headers[':event-type']?.value !== 'chunk') continue;
    const bytes = asRecord(parseJson(Buffer.from(message.body).toString('utf8')))?.bytes;
    if (typeof bytes === 'string') yield parseJson(Buffer.from(bytes, 'base64').toString('utf8'));
  }
}

/** The usage a reply reports, by its content type; undefined when it reports none. */
export function replyUsage(body: Buffer, contentType: string | null | undefined): ReplyUsage | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream') return fold(sseEvents(body.toString('utf8')));
  if (type === 'application/vnd.amazon.eventstream') return fold(bedrockEvents(body));
  const reply = parseJson(body.toString('utf8'));
  return fold([{ ...asRecord(reply), type: 'message' }]);
}
