// When a RocketMQ message is due (rocketmq-remoting.md §10.3): DELAY level
// first, else the 5.x timer properties, else Aliyun's __STARTDELIVERTIME.
// The same property names on Kafka records of delay topics mean the same
// (src/delay/README.md), so both front ends ask this one function.

import { Prop } from '../protocol/rocketmq/properties.ts';
import { delayOfLevel } from './levels.ts';

export class DelayPropertyError extends Error {}

/** The property names that make a message a delayed one. */
export const DELAY_PROPERTIES: ReadonlySet<string> = new Set([Prop.DELAY, Prop.TIMER_DELIVER_MS, Prop.TIMER_DELAY_SEC, Prop.TIMER_DELAY_MS, Prop.START_DELIVER_TIME]);

function integer(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new DelayPropertyError(`property ${name}=${JSON.stringify(value)} is not an integer`);
  return n;
}

/**
 * The delivery time asked for by `get` (a property lookup), or null when the
 * message is not delayed (absent, or DELAY ≤ 0). Throws DelayPropertyError on
 * a value that is not an integer.
 */
export function deliverAtOf(get: (name: string) => string | undefined, nowMs: number, levelsMs: readonly number[]): number | null {
  const level = get(Prop.DELAY);
  if (level !== undefined) {
    const n = integer(Prop.DELAY, level);
    return n > 0 ? nowMs + delayOfLevel(levelsMs, n) : null;
  }
  const at = get(Prop.TIMER_DELIVER_MS);
  if (at !== undefined) return integer(Prop.TIMER_DELIVER_MS, at);
  const sec = get(Prop.TIMER_DELAY_SEC);
  if (sec !== undefined) return nowMs + integer(Prop.TIMER_DELAY_SEC, sec) * 1000;
  const ms = get(Prop.TIMER_DELAY_MS);
  if (ms !== undefined) return nowMs + integer(Prop.TIMER_DELAY_MS, ms);
  const start = get(Prop.START_DELIVER_TIME);
  if (start !== undefined) return integer(Prop.START_DELIVER_TIME, start);
  return null;
}
