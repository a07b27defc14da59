import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * Lua that runs inside another script, so that two steps of a delivery cost one round trip (each
 * command costs the worker more CPU than Redis). Its code sees its own keys and args as the
 * tables SK and SA, and may `return` a value.
 */
export interface LuaStep {
  /** Names the combined script; one name, one Lua text. */
  name: string;
  lua: string;
  keys: string[];
  args: (string | number)[];
}

/** SK and SA: the KEYS and ARGV after the first `keys` and `args` (a Lua expression). */
const stepArgs = (keys: number, args: string) => `
local SK, SA = {}, {}
for i = ${keys + 1}, #KEYS do SK[#SK + 1] = KEYS[i] end
for i = (${args}) + 1, #ARGV do SA[#SA + 1] = ARGV[i] end
`;

/**
 * A script whose KEYS and ARGV start with `base`'s own, followed by the step's. `base.args` is a
 * Lua expression for how many ARGV the base script takes. `before`: the step runs first and the
 * base only when the step's reply starts with 1; the reply is {step's reply, base's reply}, or
 * {step's reply} alone when the base did not run. `after`: the step runs once the base is done;
 * the reply is the base's.
 */
export function combinedScript(
  base: { lua: string; keys: number; args: string },
  step: string,
  order: 'before' | 'after',
): string {
  const split = stepArgs(base.keys, base.args);
  const runStep = `(function()\n${step}\nend)()`;
  const runBase = `(function()\n${base.lua}\nend)()`;
  // The semicolons keep Lua from reading two calls on two lines as one.
  if (order === 'after') return `${split}local reply = ${runBase};\n${runStep};\nreturn reply\n`;
  return `${split}local stepReply = ${runStep}
if stepReply[1] ~= 1 then return {stepReply} end
return {stepReply, ${runBase}}
`;
}

const scripts = new Map<string, { lua: string; sha: string }>();

/**
 * Runs `lua` (cached once under `name`) with `keys` and `args`, by EVALSHA and, when Redis does
 * not know it yet (first use, or after a restart), by EVAL. Not `defineCommand`: a command
 * defined after this tick's auto-pipeline was made is missing on it and crashes the process.
 */
export async function runScript(
  redis: Redis,
  name: string,
  lua: () => string,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  let script = scripts.get(name);
  if (!script) {
    const text = lua();
    script = { lua: text, sha: createHash('sha1').update(text).digest('hex') };
    scripts.set(name, script);
  }
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}

/** A step on its own: one script of its own. */
export function runStep(redis: Redis, step: LuaStep): Promise<unknown> {
  const lua = () => `${stepArgs(0, '0')}return (function()\n${step.lua}\nend)()\n`;
  return runScript(redis, `step_${step.name}`, lua, step.keys, step.args);
}
