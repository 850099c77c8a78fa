// Message properties string (rocketmq-remoting.md §6.3): `key 0x01 value 0x02`
// for every pair. Decoders split on 0x02, then on the first 0x01, and skip
// pieces too short to hold a pair, as the Java client does.

export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';

export function decodeProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  if (text.length === 0) return out;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = text.length;
    const sep = text.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep >= 0 && sep < end && end - start >= 2) out.set(text.slice(start, sep), text.slice(sep + 1, end));
    start = end + 1;
  }
  return out;
}

export function encodeProperties(properties: ReadonlyMap<string, string> | Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [k, v] of properties) out += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  return out;
}

/** Well-known property keys (rocketmq-remoting.md §14). */
export const Prop = {
  TAGS: 'TAGS',
  KEYS: 'KEYS',
  UNIQ_KEY: 'UNIQ_KEY',
  WAIT: 'WAIT',
  DELAY: 'DELAY',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  /** Aliyun / ali-ons absolute delivery time (not honoured by Apache brokers; Diglot does). */
  START_DELIVER_TIME: '__STARTDELIVERTIME',
  RETRY_TOPIC: 'RETRY_TOPIC',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  CLUSTER: 'CLUSTER',
  TRAN_MSG: 'TRAN_MSG',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
} as const;
