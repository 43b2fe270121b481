import { readFileSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './redis-client.js';

/**
 * Lua scripts, one file per atomic operation named `<method>-<key count>.lua` (`-n` when the
 * key count varies). They are registered under versioned command names so two deployed
 * versions can share one Redis.
 */
const SCRIPT_VERSION = 'v7';

/**
 * `pipelined: false` keeps a script out of ioredis's auto-pipelining: the write batcher sends
 * one track call per site and round trip, which auto-pipelining would wrap in a Pipeline of its
 * own (about 50 µs of client CPU per call on the 2-core CI machine) for nothing.
 */
const SCRIPTS = {
  trackSite: { file: 'track-site-n.lua', keys: null, pipelined: false },
  readLive: { file: 'read-live-n.lua', keys: null },
  claim: { file: 'claim-3.lua', keys: 3 },
  retireBucket: { file: 'retire-bucket-n.lua', keys: null },
  releaseLock: { file: 'release-lock-1.lua', keys: 1 },
  extendLock: { file: 'extend-lock-1.lua', keys: 1 },
} satisfies Record<string, ScriptSpec>;

interface ScriptSpec {
  file: string;
  /** KEYS count; null when it varies (then the caller's key count goes first). */
  keys: number | null;
  pipelined?: false;
}

export type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./lua/${SCRIPTS[name].file}`, import.meta.url), 'utf8');
    sources.set(name, text);
  }
  return text;
}

export function commandName(name: ScriptName): string {
  return `rta_${name}_${SCRIPT_VERSION}`;
}

/** Defines every script on the client (EVALSHA, falling back to EVAL after a script flush). */
export function defineScripts(redis: RedisClient): void {
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    const command = commandName(name);
    if (typeof (redis as unknown as Record<string, unknown>)[command] === 'function') continue;
    const { keys, pipelined }: ScriptSpec = SCRIPTS[name];
    redis.defineCommand(command, keys === null ? { lua: source(name) } : { numberOfKeys: keys, lua: source(name) });
    // A new array: ioredis shares its default one between clients.
    const ignored = redis.options.autoPipeliningIgnoredCommands ?? [];
    if (pipelined === false && !ignored.includes(command)) redis.options.autoPipeliningIgnoredCommands = [...ignored, command];
  }
}

type ScriptTarget = RedisClient | ChainableCommander;

function argumentsOf(name: ScriptName, keys: string[], args: Array<string | number>): Array<string | number> {
  // Scripts with a variable key count take it as their first argument.
  return SCRIPTS[name].keys === null ? [keys.length, ...keys, ...args] : [...keys, ...args];
}

function method(target: ScriptTarget, name: ScriptName): (...a: Array<string | number>) => unknown {
  const fn = (target as unknown as Record<string, (...a: Array<string | number>) => unknown>)[commandName(name)];
  if (!fn) throw new Error(`script ${name} is not defined on this client`);
  return fn;
}

/** Calls a defined script; ioredis adds the methods at run time, so they are untyped. */
export function callScript(redis: RedisClient, name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
  return method(redis, name).call(redis, ...argumentsOf(name, keys, args)) as Promise<unknown>;
}

/** Queues a defined script on a pipeline or transaction of a client that defined it. */
export function scriptCommand(pipeline: ChainableCommander, name: ScriptName, keys: string[], args: Array<string | number>): void {
  method(pipeline, name).call(pipeline, ...argumentsOf(name, keys, args));
}
