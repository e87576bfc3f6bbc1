// Lua scripts run with EVALSHA (sent once, then called by hash), defined once per connection.
// Each script is atomic in Redis, which is how the stores stay correct with concurrent writers.
import type { Redis } from 'ioredis';

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/**
 * Returns a function calling `lua` with `numberOfKeys` keys followed by its arguments; with
 * `numberOfKeys` undefined, the call passes the number of keys first (a variable number of keys).
 */
export function redisScript(redis: Redis, name: string, numberOfKeys: number | undefined, lua: string): ScriptFn {
  const commands = redis as unknown as Record<string, ScriptFn>;
  if (typeof commands[name] !== 'function')
    redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
  return (...args) => commands[name]!.apply(redis, args);
}
