// JSON bodies of the RocketMQ admin commands as a Java broker writes them
// with fastjson (rocketmq-remoting.md §3.4, §13). Most are plain JSON, but a
// Java `Map<MessageQueue, …>` (TopicStatsTable, ConsumeStats, ResetOffsetBody)
// is written with the MessageQueue OBJECT as the key:
//   {"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:{"maxOffset":3,…}}}
// That is not valid JSON, but it is what Java clients (fastjson) and Go parse,
// so it is what we send. `fastjson()` below is JSON.stringify plus two
// extensions: ObjectKeyedMap (object keys) and JavaDouble (a double written
// the way Java prints it, `0.0` rather than `0`).

import type { Topic } from '../broker/topics.ts';
import { PERM_READ, PERM_WRITE, type RocketmqState } from './state.ts';

/** A Java map whose keys are objects; entries are written in the given order. */
export class ObjectKeyedMap {
  readonly entries: ReadonlyArray<readonly [object, unknown]>;
  constructor(entries: ReadonlyArray<readonly [object, unknown]>) {
    this.entries = entries;
  }
}

/** A Java double: integral values keep a `.0` (fastjson writes 0.0). */
export class JavaDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** JSON text with fastjson's object keys; otherwise exactly JSON.stringify (undefined members omitted). */
export function fastjson(value: unknown): string {
  if (value instanceof ObjectKeyedMap) {
    return `{${value.entries.map(([k, v]) => `${fastjson(k)}:${fastjson(v)}`).join(',')}}`;
  }
  if (value instanceof JavaDouble) {
    const v = value.value;
    if (!Number.isFinite(v)) return '0.0';
    return Number.isInteger(v) ? `${v}.0` : String(v);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : fastjson(v))).join(',')}]`;
  if (value instanceof Map) return fastjson(Object.fromEntries(value));
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${JSON.stringify(k)}:${fastjson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function fastjsonBody(value: unknown): Buffer {
  return Buffer.from(fastjson(value), 'utf8');
}

/** MessageQueue as fastjson writes it (fields in alphabetical order). */
export function messageQueue(topic: string, brokerName: string, queueId: number): { brokerName: string; queueId: number; topic: string } {
  return { brokerName, queueId, topic };
}

/**
 * DataVersion `{"counter":n,"stateVersion":0,"timestamp":ms}`. Diglot keeps no
 * version counter of its topic or group tables: the counter is the table's
 * size and the timestamp the listener's start, which is enough for tools that
 * only print or compare it.
 */
export function dataVersion(state: RocketmqState, counter: number): { counter: number; stateVersion: number; timestamp: number } {
  return { counter, stateVersion: 0, timestamp: state.startedMs };
}

export interface TopicConfigJson {
  attributes: Record<string, string>;
  order: boolean;
  perm: number;
  readQueueNums: number;
  topicFilterType: string;
  topicName: string;
  topicSysFlag: number;
  writeQueueNums: number;
}

/**
 * TopicConfig of a Diglot topic. Queue counts are the partition count; perm is
 * always 6 (read + write, what routes advertise), the filter type SINGLE_TAG,
 * `order` true only when the name server KV holds an ORDER_TOPIC_CONFIG entry.
 */
export function topicConfigJson(state: RocketmqState, topic: Pick<Topic, 'name' | 'partitions'>, perm = PERM_READ | PERM_WRITE): TopicConfigJson {
  return {
    attributes: {},
    order: state.kv.get('ORDER_TOPIC_CONFIG')?.has(topic.name) === true,
    perm,
    readQueueNums: topic.partitions,
    topicFilterType: 'SINGLE_TAG',
    topicName: topic.name,
    topicSysFlag: 0,
    writeQueueNums: topic.partitions,
  };
}

/** Java `Properties` text (`key=value` lines) with the escapes Properties.load undoes. */
export function javaProperties(entries: ReadonlyArray<readonly [string, string]>): string {
  const escape = (s: string, key: boolean): string =>
    s.replace(/[\\\n\r\t\f=:#! ]/g, (c) => {
      if (c === ' ' && !key) return ' ';
      return { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f' }[c] ?? `\\${c}`;
    });
  return entries.map(([k, v]) => `${escape(k, true)}=${escape(v, false)}\n`).join('');
}

/**
 * Parses Java `Properties` text (what mqadmin updateBrokerConfig sends): one
 * `key=value` or `key: value` per line, `#`/`!` comments, backslash escapes
 * and continuations. Returns pairs in order.
 */
export function parseJavaProperties(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    let key = '';
    let pos = 0;
    for (; pos < line.length; pos++) {
      const c = line[pos]!;
      if (c === '\\' && pos + 1 < line.length) {
        key += unescapeChar(line[++pos]!);
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      key += c;
    }
    while (pos < line.length && /[ \t\f]/.test(line[pos]!)) pos++;
    if (pos < line.length && (line[pos] === '=' || line[pos] === ':')) pos++;
    while (pos < line.length && /[ \t\f]/.test(line[pos]!)) pos++;
    let value = '';
    for (; pos < line.length; pos++) {
      const c = line[pos]!;
      if (c === '\\' && pos + 1 < line.length) value += unescapeChar(line[++pos]!);
      else value += c;
    }
    out.push([key, value]);
  }
  return out;
}

function unescapeChar(c: string): string {
  return { n: '\n', r: '\r', t: '\t', f: '\f' }[c] ?? c;
}
