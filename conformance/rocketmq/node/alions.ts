// RocketMQ conformance driver for the Node client ali-ons 3.12.0 (remoting protocol, pure JS), plus kafkajs 2.2.4
// for the cross-protocol scenario.
//
//   node conformance/rocketmq/node/alions.ts <scenario>
//   env: NAMESRV=host:port, KAFKA_BOOTSTRAP=host:port (empty: no Kafka listener), RUN_ID, CONFORMANCE_TARGET
//
// Progress goes to stderr; control lines ({"control":"restart-broker"}, answered by "restarted" on stdin) and one
// final {"ok":bool,"detail":"..."} or {"skip":"reason"} line go to stdout.
//
// What ali-ons offers (and so what the scenarios can use): Producer#send (synchronous SEND_MESSAGE_V2 only: no
// async/oneway/batch API), a push Consumer (clustering or broadcasting, TAG or SQL92 subscription, ACTION_RETRY
// → CONSUMER_SEND_MSG_BACK), no pull/lite-pull consumer, no orderly (queue-locking) consumer, no query/view API,
// no public admin API (topics are created with its internal MQClientAPI#createTopic: it cannot auto-create).
import process from 'node:process';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ons: any = require('ali-ons');
const urllib: any = require('urllib');

const NAMESRV = process.env['NAMESRV'] || '127.0.0.1:9876';
const KAFKA_BOOTSTRAP = process.env['KAFKA_BOOTSTRAP'] || '';
const RUN_ID = (process.env['RUN_ID'] || Date.now().toString(36)).replace(/[^A-Za-z0-9_-]/g, '_');
const TARGET = process.env['CONFORMANCE_TARGET'] || 'diglot';

class Fail extends Error {}
class Skip extends Error {}

function log(msg: string): void {
  process.stderr.write(`[ali-ons ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

function check(cond: unknown, msg: string | (() => string)): asserts cond {
  if (!cond) throw new Fail(typeof msg === 'function' ? msg() : msg);
}

function emit(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(timeoutMs: number, what: string, cond: () => boolean | Promise<boolean>, state: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    check(Date.now() < deadline, () => `timed out after ${timeoutMs / 1000} s waiting for ${what}; ${state()}`);
    await sleep(100);
  }
}

let stdinLines: AsyncIterableIterator<string> | undefined;

async function restartBroker(): Promise<void> {
  emit({ control: 'restart-broker' });
  stdinLines ??= readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const next = await stdinLines.next();
  const line = next.done ? undefined : next.value.trim();
  check(line === 'restarted', `runner did not restart the broker: ${line}`);
  log('broker restarted');
}

const name = (kind: string) => `alions_${kind}_${RUN_ID}`;

// ali-ons logs warnings and errors with console.warn/console.error (stderr); keep it that way but tagged.
const logger = {
  info() {},
  debug() {},
  warn: (...a: any[]) => log(`client warn: ${a.map(String).join(' ')}`),
  error: (...a: any[]) => log(`client error: ${a.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')}`),
};

let instanceSeq = 0;
const closers: Array<() => Promise<void>> = [];

async function newProducer(group: string, extra: Record<string, unknown> = {}): Promise<any> {
  const p = new ons.Producer({
    nameSrv: NAMESRV, producerGroup: group, httpclient: urllib, logger,
    instanceName: `${group}_${++instanceSeq}`, sendMsgTimeout: 10000, ...extra,
  });
  p.on('error', (e: Error) => log(`producer error: ${e.message}`));
  await p.ready();
  // Producer#close removes all listeners but its client can live on (it also hosts ali-ons' inner producer) and
  // keep emitting route errors through the closed producer: re-attach a listener so they are only logged.
  p.closeQuietly = async () => {
    await p.close();
    p.on('error', (e: Error) => log(`closed producer error: ${e.message}`));
  };
  closers.push(() => p.closeQuietly());
  return p;
}

interface Recv {
  consumer: string; body: string; msgId: string; keys: string; tags: string; props: Record<string, string>;
  queue: number; offset: number; reconsume: number; topic: string;
}

class Collector {
  list: Recv[] = [];
  add(who: string, msg: any): void {
    this.list.push({
      consumer: who, body: msg.body.toString('utf8'), msgId: msg.msgId, keys: msg.keys ?? '', tags: msg.tags ?? '',
      props: { ...msg.properties }, queue: Number(msg.queueId), offset: Number(msg.queueOffset),
      reconsume: Number(msg.reconsumeTimes), topic: msg.topic,
    });
  }
  distinct(prefix = ''): number {
    return new Set(this.list.filter((r) => r.body.startsWith(prefix)).map((r) => r.body)).size;
  }
}

async function newConsumer(group: string, who: string, extra: Record<string, unknown> = {}): Promise<any> {
  const c = new ons.Consumer({
    nameSrv: NAMESRV, consumerGroup: group, httpclient: urllib, logger,
    instanceName: `${who}_${RUN_ID}_${++instanceSeq}`,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', rebalanceInterval: 5000, pollNameServerInteval: 5000, ...extra,
  });
  c.on('error', (e: Error) => log(`consumer ${who} error: ${e.message}`));
  await c.ready();
  // Every consumer also starts ali-ons' process-wide inner producer (for send-back fallbacks); it shares the first
  // consumer's client and emits 'error' (e.g. route misses while the broker restarts): without a listener that
  // would crash the process.
  const dp = ons.Producer.defaultProducer;
  if (dp && !dp.hooked) {
    dp.hooked = true;
    dp.on('error', (e: Error) => log(`inner producer error: ${e.message}`));
    closers.unshift(async () => {
      await dp.close();
      dp.on('error', () => {});
    });
  }
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await c.close();
    }
  };
  c.closeOnce = close;
  closers.push(close);
  return c;
}

async function startConsumer(group: string, who: string, topic: string, expr: any, col: Collector, extra: Record<string, unknown> = {}): Promise<any> {
  const c = await newConsumer(group, who, extra);
  c.subscribe(topic, expr, async (msg: any) => {
    col.add(who, msg);
  });
  log(`consumer ${who} of group ${group} subscribed to ${topic} (${JSON.stringify(expr)})`);
  return c;
}

function message(topic: string, tag: string | null, body: string | Buffer): any {
  return tag === null ? new ons.Message(topic, body) : new ons.Message(topic, tag, body);
}

async function send(p: any, msg: any): Promise<any> {
  const res = await p.send(msg);
  check(res.sendStatus === 'SEND_OK', `send status ${res.sendStatus}`);
  return res;
}

async function sendRetrying(p: any, msg: any, ms = 60000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await send(p, msg);
    } catch (e) {
      check(Date.now() < deadline, `send kept failing: ${(e as Error).message}`);
      log(`send failed (${(e as Error).message}); retrying`);
      await sleep(1000);
    }
  }
}

/** Creates the topic on every master with ali-ons' own (internal) MQClientAPI#createTopic, i.e.
 *  UPDATE_AND_CREATE_TOPIC (17), then waits for its route. ali-ons 3.12.0 cannot auto-create topics: its
 *  route lookup throws on TOPIC_NOT_EXIST (17) before it falls back to the TBW102 route, so sending to an
 *  unknown topic fails. The master addresses come from the route of TBW102 (GET_ROUTEINFO_BY_TOPIC 105). */
async function createTopic(p: any, topic: string, queues: number): Promise<void> {
  const api = p._mqClient;
  const route = await api.getDefaultTopicRouteInfoFromNameServer('TBW102', 5000);
  check(route && route.brokerDatas?.length, 'no route for TBW102: cannot find the broker addresses');
  for (const bd of route.brokerDatas) {
    const addr = bd.brokerAddrs['0'] ?? bd.brokerAddrs[0];
    check(addr, `no master address for broker ${bd.brokerName}: ${JSON.stringify(bd.brokerAddrs)}`);
    try {
      await api.createTopic(addr, 'TBW102', { topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false }, 5000);
    } catch (e) {
      throw new Fail(`create topic ${topic} on ${addr} (UPDATE_AND_CREATE_TOPIC 17): code ${(e as any).code}: ${(e as Error).message.trim()}`);
    }
  }
  await waitFor(30000, `route of ${topic} with ${queues} queues`, async () => {
    try {
      await api.updateTopicRouteInfoFromNameServer(topic);
    } catch {
      return false;
    }
    const info = p._topicPublishInfoTable.get(topic);
    return !!info && info.messageQueueList.length === queues;
  }, () => `${p._topicPublishInfoTable.get(topic)?.messageQueueList.length} queues`);
  log(`topic ${topic} created with ${queues} queues`);
}

// ------------------------------------------------------------------ send

async function scenarioSend(): Promise<string> {
  const topic = name('send');
  const p = await newProducer(name('send_pg'));
  await createTopic(p, topic, 4);
  const wants = new Map<string, { keys: string; tags: string; props: Record<string, string> }>();
  const sent = new Map<string, any>();
  for (let i = 0; i < 20; i++) {
    let body = `sync-${i}-\u00e9\u2713`;
    if (i === 3) body += '0123456789'.repeat(1000); // over 4 KiB: ali-ons compresses it (sysFlag 0x1)
    const tag = i % 2 ? 'TagOdd' : 'TagEven';
    const msg = message(topic, tag, body);
    msg.keys = [`k-${i}`, 'common'];
    const props = { 'p-idx': String(i), 'p-utf8': '\u00fcber \u2713' };
    Object.assign(msg.properties, props);
    wants.set(body, { keys: `k-${i} common`, tags: tag, props });
    sent.set(body, await send(p, msg));
  }
  log('sent 20 messages (ali-ons has only synchronous send)');
  const col = new Collector();
  await startConsumer(name('send_cg'), 'c1', topic, '*', col);
  await waitFor(60000, '20 messages', () => col.distinct() >= 20, () => `${col.distinct()} distinct`);
  await sleep(2000);
  check(col.list.length === 20, `consumed ${col.list.length} messages (${col.distinct()} distinct), want exactly 20`);
  const perQueue = new Map<number, number[]>();
  for (const r of col.list) {
    perQueue.set(r.queue, [...(perQueue.get(r.queue) ?? []), r.offset]);
    const w = wants.get(r.body);
    check(w, `unexpected body ${r.body.slice(0, 60)}`);
    const short = r.body.slice(0, 20);
    check(r.keys === w.keys, `${short}: keys ${r.keys}, want ${w.keys}`);
    check(r.tags === w.tags, `${short}: tag ${r.tags}, want ${w.tags}`);
    for (const [k, v] of Object.entries(w.props)) check(r.props[k] === v, `${short}: property ${k}=${r.props[k]}, want ${v}`);
    const s = sent.get(r.body);
    check(s.msgId === r.msgId, `${short}: send result msgId ${s.msgId}, consumed msgId ${r.msgId} (ali-ons sets no UNIQ_KEY: both are the offsetMsgId)`);
    check(Number(s.messageQueue.queueId) === r.queue && s.queueOffset === r.offset, `${short}: sent to queue ${s.messageQueue.queueId} offset ${s.queueOffset}, consumed from ${r.queue}/${r.offset}`);
  }
  const qs: string[] = [];
  for (const [q, offs] of [...perQueue].sort((a, b) => a[0] - b[0])) {
    offs.sort((a, b) => a - b);
    check(offs.every((o, i) => o === i), `queue ${q}: consumed offsets ${offs}, want 0..${offs.length - 1}`);
    qs.push(`q${q}:${offs.length}`);
  }
  return `20 sync sends (ali-ons has no async/oneway/batch API; one 10 KB body compressed) consumed once each with body, keys, tag, user properties, send-result msgId (offsetMsgId)/queue/offset; per-queue offsets contiguous [${qs.join(' ')}]`;
}

// ------------------------------------------------------------------ cluster

async function scenarioCluster(): Promise<string> {
  const topic = name('cluster');
  const group = name('cluster_cg');
  let p = await newProducer(name('cluster_pg'), { defaultTopicQueueNums: 8 });
  await createTopic(p, topic, 8);
  const col = new Collector();
  const c1 = await startConsumer(group, 'c1', topic, '*', col);
  const c2 = await startConsumer(group, 'c2', topic, '*', col);
  const c3 = await startConsumer(group, 'c3', topic, '*', col);
  // Warm-up: 8 round-robin probes per round until a round is delivered exactly once per probe and reaches all three
  // consumers, i.e. the group has rebalanced with no queue held twice (ali-ons rebalances every 5 s here and on
  // NOTIFY_CONSUMER_IDS_CHANGED).
  let probeRound = 0;
  const roundState = (r: number) => {
    const recs = col.list.filter((x) => x.body.startsWith(`P-${r}-`));
    return { n: recs.length, by: new Set(recs.map((x) => x.consumer)) };
  };
  await waitFor(60000, 'a probe round delivered once per queue to all 3 consumers (rebalance)', async () => {
    for (let q = 0; q < 8; q++) await send(p, message(topic, 'T', `P-${probeRound}-${q}`));
    probeRound++;
    await sleep(1500);
    const st = roundState(probeRound - 1);
    return st.n === 8 && st.by.size === 3;
  }, () => { const st = roundState(probeRound - 1); return `last round: ${st.n} deliveries, consumers ${[...st.by]}`; });
  log(`rebalanced after ${probeRound} probe rounds`);
  await sleep(2000);
  // ali-ons sends round-robin over the 8 queues (its sharding-key selector cannot target queue 0, see orderly)
  const sendPhase = async (prod: any, phase: string, retry: boolean) => {
    for (let i = 0; i < 80; i++) {
      const msg = message(topic, 'T', `${phase}-${i}`);
      if (retry) await sendRetrying(prod, msg);
      else await send(prod, msg);
    }
  };
  const queuesBy = (prefix: string) => {
    const out = new Map<string, Set<number>>();
    for (const r of col.list) if (r.body.startsWith(prefix)) out.set(r.consumer, (out.get(r.consumer) ?? new Set()).add(r.queue));
    return out;
  };
  const showQ = (m: Map<string, Set<number>>) => [...m].sort().map(([c, s]) => `${c}=[${[...s].sort()}]`).join(' ');
  const countPrefix = (prefix: string) => col.list.filter((r) => r.body.startsWith(prefix)).length;
  // (A)
  await sendPhase(p, 'A', false);
  await waitFor(60000, '80 phase-A messages', () => col.distinct('A-') === 80, () => `${col.distinct('A-')} distinct`);
  await sleep(1000);
  const qa = queuesBy('A-');
  check(qa.size === 3, `phase A: only ${qa.size} consumers received messages (${showQ(qa)}); want all 3`);
  const dupA = countPrefix('A-') - 80;
  check(dupA <= 8, `phase A: ${dupA} duplicate deliveries (tolerance 8)`);
  log(`phase A: ${showQ(qa)} (${dupA} duplicates)`);
  // (B)
  await c3.closeOnce();
  log('c3 closed');
  await sleep(3000);
  await sendPhase(p, 'B', false);
  await waitFor(90000, '80 phase-B messages consumed by c1/c2', () => col.distinct('B-') === 80, () => `${col.distinct('B-')} distinct; ${showQ(queuesBy('B-'))}`);
  await sleep(1000);
  const qb = queuesBy('B-');
  check(!qb.has('c3'), 'phase B: c3 consumed after close');
  const dupB = countPrefix('B-') - 80;
  check(dupB <= 8, `phase B: ${dupB} duplicate deliveries (tolerance 8)`);
  log(`phase B: ${showQ(qb)} (${dupB} duplicates)`);
  await sleep(6000); // offset persistence every 5 s; close() persists too
  await c1.closeOnce();
  await c2.closeOnce();
  await p.closeQuietly();
  // (C)
  await restartBroker();
  p = await newProducer(name('cluster_pg2'), { defaultTopicQueueNums: 8 });
  await sendPhase(p, 'C', true);
  const before = col.list.length;
  await startConsumer(group, 'c4', topic, '*', col);
  await waitFor(120000, '80 phase-C messages consumed by c4', () => col.distinct('C-') === 80, () => `${col.distinct('C-')} distinct`);
  await sleep(2000);
  const reread = col.list.slice(before).filter((r) => !r.body.startsWith('C-')).length;
  check(reread <= 16, `after restart c4 re-read ${reread} messages of phases A/B (tolerance 16)`);
  return `8 queues, rebalanced after ${probeRound} probe rounds: A 3 consumers ${showQ(qa)} (${dupA} dup); B after c3 left ${showQ(qb)} (${dupB} dup); after broker restart new member got all 80 new, re-read ${reread} old (tolerance 16; dup tolerance 8 per phase)`;
}

// ------------------------------------------------------------------ broadcast

async function scenarioBroadcast(): Promise<string> {
  const topic = name('bcast');
  const group = name('bcast_cg');
  const p = await newProducer(name('bcast_pg'));
  await createTopic(p, topic, 4);
  const col1 = new Collector();
  const col2 = new Collector();
  await startConsumer(group, 'b1', topic, '*', col1, { isBroadcast: true });
  await startConsumer(group, 'b2', topic, '*', col2, { isBroadcast: true });
  await sleep(3000);
  for (let i = 0; i < 40; i++) await send(p, message(topic, 'T', `b-${i}`));
  await waitFor(60000, 'both broadcasting consumers to get 40', () => col1.distinct('b-') === 40 && col2.distinct('b-') === 40,
    () => `b1 ${col1.distinct('b-')}, b2 ${col2.distinct('b-')}`);
  await sleep(2000);
  const n1 = col1.list.filter((r) => r.body.startsWith('b-')).length;
  const n2 = col2.list.filter((r) => r.body.startsWith('b-')).length;
  check(n1 === 40 && n2 === 40, `deliveries b1 ${n1}, b2 ${n2}, want 40 each`);
  return '2 broadcasting consumers of one group each consumed all 40 messages of a 4-queue topic exactly once';
}

// ------------------------------------------------------------------ orderly

async function scenarioOrderly(): Promise<string> {
  const n = 10000;
  const nKeys = 100;
  const senders = 4;
  const topic = name('orderly');
  const p = await newProducer(name('orderly_pg'), { defaultTopicQueueNums: 8 });
  await createTopic(p, topic, 8);
  const col = new Collector();
  // ali-ons has no orderly (LOCK_BATCH_MQ) consumer; with parallelConsumeLimit 1 its push consumer handles each
  // queue's messages one at a time in offset order, which is what is checked here.
  await startConsumer(name('orderly_cg'), 'o1', topic, 'T', col, { parallelConsumeLimit: 1, pullThresholdForQueue: 1000 });
  // ali-ons bug: a sharding key hashed to queue id 0 is falsy in its selector and falls back to round-robin, so
  // use only keys that hash to queues 1..7.
  const crypto = require('node:crypto');
  const keyNames: string[] = [];
  for (let j = 0; keyNames.length < nKeys; j++) {
    const k = `key-${j}`;
    if (crypto.createHash('md5').update(k).digest().readUInt32BE() % 8 !== 0) keyNames.push(k);
  }
  const sentAt: Array<[number, number]> = new Array(n);
  const t0 = Date.now();
  await Promise.all(Array.from({ length: senders }, async (_, s) => {
    for (let i = 0; i < n; i++) {
      if ((i % nKeys) % senders !== s) continue;
      const msg = message(topic, 'T', String(i));
      msg.shardingKey = keyNames[i % nKeys];
      msg.keys = [keyNames[i % nKeys]];
      const res = await send(p, msg);
      sentAt[i] = [Number(res.messageQueue.queueId), res.queueOffset];
    }
  }));
  log(`sent ${n} in ${Date.now() - t0} ms`);
  const count = () => col.list.filter((r) => r.body !== 'init').length;
  await waitFor(240000, `${n} messages`, () => count() >= n, () => `${count()}`);
  await sleep(2000);
  const got = col.list.filter((r) => r.body !== 'init');
  check(got.length === n, `${got.length} deliveries for ${n} messages`);
  const seen = new Uint8Array(n);
  const lastOff = new Map<number, number>();
  const lastKeyVal = new Map<string, number>();
  const keyQueue = new Map<string, number>();
  for (const r of got) {
    const v = Number(r.body);
    check(Number.isInteger(v) && v >= 0 && v < n, `bad body ${r.body}`);
    check(!seen[v], `message ${v} consumed twice`);
    seen[v] = 1;
    const [sq, so] = sentAt[v]!;
    check(r.queue === sq && r.offset === so, `message ${v} sent to ${sq}/${so}, consumed from ${r.queue}/${r.offset}`);
    const lo = lastOff.get(r.queue);
    if (lo === undefined) check(r.offset === 0, `queue ${r.queue}: first consumed offset ${r.offset}`);
    else check(r.offset === lo + 1, `queue ${r.queue}: offset ${r.offset} consumed after ${lo} (order broken)`);
    lastOff.set(r.queue, r.offset);
    const lk = lastKeyVal.get(r.keys);
    if (lk !== undefined) check(v > lk, `key ${r.keys}: ${v} consumed after ${lk} (order broken)`);
    lastKeyVal.set(r.keys, v);
    const kq = keyQueue.get(r.keys);
    if (kq !== undefined) check(kq === r.queue, `key ${r.keys} in queues ${kq} and ${r.queue}`);
    keyQueue.set(r.keys, r.queue);
  }
  return `${n} messages, ${nKeys} sharding keys over ${lastOff.size} of 8 queues (keys hashing to queue 0 avoided: ali-ons sends those round-robin); push consumer (no orderly consumer in ali-ons, parallelConsumeLimit 1): each once at its send-result queue/offset, per-queue offsets in order, per-key values increasing`;
}

// ------------------------------------------------------------------ filter-tag

async function scenarioFilterTag(): Promise<string> {
  const topic = name('ftag');
  const p = await newProducer(name('ftag_pg'));
  await createTopic(p, topic, 4);
  const col = new Collector();
  await startConsumer(name('ftag_cg'), 'f1', topic, 'TagA || TagC', col);
  await sleep(3000);
  let want = 0;
  for (let i = 0; i < 40; i++) {
    const tag = [ 'TagA', 'TagB', 'TagC', null ][i % 4]!;
    if (tag === 'TagA' || tag === 'TagC') want++;
    await send(p, message(topic, tag, `m-${i}`));
  }
  await waitFor(60000, `${want} TagA/TagC messages`, () => col.distinct('m-') >= want, () => `${col.distinct('m-')}`);
  await sleep(3000);
  // ali-ons re-checks tags itself only for messages that have a tag: an untagged message arriving here means the
  // broker did not filter.
  for (const r of col.list) check(r.tags === 'TagA' || r.tags === 'TagC', `delivered ${r.body} with tag '${r.tags}'`);
  check(col.list.length === want, `${col.list.length} deliveries, want ${want}`);
  return `TagA || TagC: ${want} of 40 delivered; TagB and untagged (which ali-ons would not drop itself) were filtered by the broker`;
}

// ------------------------------------------------------------------ filter-sql

async function scenarioFilterSQL(): Promise<string> {
  const topic = name('fsql');
  const p = await newProducer(name('fsql_pg'));
  await createTopic(p, topic, 4);
  const col = new Collector();
  const expr = "a BETWEEN 0 AND 3 AND b = 'x'";
  await startConsumer(name('fsql_cg'), 's1', topic, { expressionType: 'SQL92', subString: expr }, col);
  await sleep(3000);
  const want = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const body = `m-${i}`;
    const msg = message(topic, 'T', body);
    const a = i % 7;
    const b = i % 2 === 0 ? 'x' : 'y';
    if (i % 10 !== 9) msg.properties['a'] = String(a);
    msg.properties['b'] = b;
    if (i % 10 !== 9 && a <= 3 && b === 'x') want.add(body);
    await send(p, msg);
  }
  await waitFor(60000, `${want.size} matching messages`, () => col.distinct() >= want.size, () => `${col.distinct()}`);
  await sleep(3000);
  for (const r of col.list) check(want.has(r.body), `delivered ${r.body} with a=${r.props['a']} b=${r.props['b']}, which does not match ${expr}`);
  check(col.list.length === want.size, `${col.list.length} deliveries, want ${want.size}`);
  return `SQL92 "${expr}": exactly the ${want.size} matching of 60 delivered (some without property a)`;
}

// ------------------------------------------------------------------ retry-dlq

async function scenarioRetryDLQ(): Promise<string> {
  const topic = name('retry');
  const group = name('retry_cg');
  const p = await newProducer(name('retry_pg'));
  await createTopic(p, topic, 2);
  const deliveries: Array<{ body: string; reconsume: number; at: number }> = [];
  const c = await newConsumer(group, 'r1', { maxReconsumeTimes: 2 });
  c.removeAllListeners('error');
  c.on('error', (e: Error) => { if (!/consume r-\d later/.test(e.message)) log(`consumer r1 error: ${e.message}`); });
  c.subscribe(topic, 'TagR', async (msg: any) => {
    const body = msg.body.toString();
    deliveries.push({ body, reconsume: Number(msg.reconsumeTimes), at: Date.now() });
    log(`delivery ${body} reconsumeTimes=${msg.reconsumeTimes} topic=${msg.topic}`);
    // Throw rather than return Consumer.ACTION_RETRY: ali-ons' internal %RETRY% handler drops the return value
    // of the user handler, so ACTION_RETRY would only work for the first delivery.
    throw new Error(`consume ${body} later`);
  });
  await sleep(3000);
  const ids = new Map<string, string>();
  for (let i = 0; i < 3; i++) {
    const msg = message(topic, 'TagR', `r-${i}`);
    msg.keys = [`rk-${i}`];
    msg.properties['u'] = 'v';
    ids.set(`r-${i}`, (await send(p, msg)).msgId);
  }
  const byBody = () => {
    const out = new Map<string, number[]>();
    for (const d of deliveries) out.set(d.body, [...(out.get(d.body) ?? []), d.reconsume]);
    return out;
  };
  const show = () => JSON.stringify(Object.fromEntries(byBody()));
  // delay level 0 → the broker picks 3 + reconsumeTimes: 10 s, then 30 s
  await waitFor(150000, '3 deliveries of each message', () => [0, 1, 2].every((i) => (byBody().get(`r-${i}`)?.length ?? 0) >= 3), show);
  const dlq = `%DLQ%${group}`;
  const col = new Collector();
  await waitFor(60000, `3 messages in ${dlq}`, async () => {
    if (!(col as any).started) {
      try {
        await startConsumer(name('dlq_reader'), 'd1', dlq, '*', col);
        (col as any).started = true;
      } catch (e) {
        log(`DLQ consumer: ${(e as Error).message}`);
        await sleep(2000);
      }
    }
    return col.distinct('r-') >= 3;
  }, () => `${col.distinct('r-')} distinct; deliveries ${show()}`);
  await sleep(2000);
  for (const [body, rc] of byBody()) check(rc.length === 3 && rc.every((r, i) => r === i), `${body}: reconsumeTimes sequence ${rc}, want [0,1,2] then DLQ`);
  // The broker's delays: level 3 + reconsumeTimes = 10 s, then 30 s (the time is taken before the handler throws, so
  // the send-back and its delay come after it); 50 ms tolerance as in the delay scenario.
  const gaps: number[] = [];
  for (let i = 0; i < 3; i++) {
    const ts = deliveries.filter((d) => d.body === `r-${i}`).map((d) => d.at);
    [10000, 30000].forEach((want, j) => {
      const gap = ts[j + 1]! - ts[j]!;
      check(gap >= want - DELAY_EARLY_MS, `r-${i}: redelivery ${j + 1} came ${gap} ms after the previous one (level ${3 + j} = ${want / 1000} s)`);
      gaps.push(gap);
    });
  }
  for (const r of col.list) {
    const i = r.body.slice(2);
    check(r.keys === `rk-${i}`, `DLQ ${r.body} keys ${r.keys}`);
    check(r.tags === 'TagR' && r.props['u'] === 'v', `DLQ ${r.body} lost tag/property: ${JSON.stringify(r.props)}`);
    check(r.props['ORIGIN_MESSAGE_ID'] === ids.get(r.body), `DLQ ${r.body}: ORIGIN_MESSAGE_ID ${r.props['ORIGIN_MESSAGE_ID']}, send result msgId ${ids.get(r.body)}`);
  }
  check(col.list.length === 3, `${col.list.length} DLQ deliveries, want 3`);
  return `maxReconsumeTimes 2, broker-chosen delays (level 3 + reconsumeTimes): each of 3 messages delivered with reconsumeTimes 0,1,2, redeliveries ${gaps.filter((_, k) => k % 2 === 0).join('/')} ms then ${gaps.filter((_, k) => k % 2 === 1).join('/')} ms apart (≥ 10 s, 30 s), then found once in %DLQ%<group> with body, keys, tag, property and ORIGIN_MESSAGE_ID = original msgId`;
}

// ------------------------------------------------------------------ delay

/** Tolerances of the delay scenario (same as the Java and Go drivers; see ../README.md). */
const DELAY_EARLY_MS = 50;
/** Apache RocketMQ 5.3.3 rounds a timer message's delivery time down to its timerPrecisionMs (1 s): the reference may
 *  deliver timer messages up to 1 s early, and only it gets that allowance. */
const APACHE_TIMER_EARLY_MS = 1000;
const DELAY_LATE_MS = 5000;
const IMMEDIATE_MS = 2000;

interface DelayCase {
  name: string; body: string; kind: string; tag: string; keys: string; level?: string; msg: any;
  rel?: number; due: number; early: number; sendStart: number; sent: number; queue: number;
  /** false: the message is sent and must arrive once and intact, but its timing is not asserted. */
  timed: boolean; delayed: boolean;
}

async function scenarioDelay(): Promise<string> {
  const apache = TARGET === 'rocketmq';
  const topic = name('delay');
  const p = await newProducer(name('delay_pg'));
  await createTopic(p, topic, 2);
  const got = new Map<string, Array<{ at: number; msg: any }>>();
  const c = await newConsumer(name('delay_cg'), 'dl1');
  c.subscribe(topic, '*', async (msg: any) => {
    const at = Date.now();
    const body = msg.body.toString('utf8');
    got.set(body, [...(got.get(body) ?? []), { at, msg }]);
  });
  // Warm-up: the consumer has its queues and is pulling before any timing starts.
  await send(p, message(topic, 'TagW', 'warm-up'));
  await waitFor(60000, 'the warm-up message', () => got.has('warm-up'), () => 'nothing consumed yet');
  log('consumer ready');

  const cases: DelayCase[] = [];
  const mk = (nm: string, kind: string, tag: string, keys: string): DelayCase => {
    const body = `${nm}-\u00e9\u2713`;
    const msg = message(topic, tag, body);
    msg.keys = [keys];
    msg.properties['kind'] = kind;
    msg.properties['utf8'] = '\u00fcber \u4e2d\u6587';
    const d: DelayCase = { name: nm, body, kind, tag, keys, msg, due: 0, early: DELAY_EARLY_MS, sendStart: 0, sent: 0, queue: -1, timed: true, delayed: kind !== 'no delay' };
    cases.push(d);
    return d;
  };
  for (const lvl of [1, 2]) {
    for (let i = 0; i < 2; i++) {
      const d = mk(`level${lvl}-${i}`, `level ${lvl}`, `TagL${lvl}`, `dk-l${lvl}-${i}`);
      d.msg.delayTimeLevel = lvl;
      d.level = String(lvl);
      d.rel = lvl === 1 ? 1000 : 5000;
    }
  }
  const deliver = mk('timer-deliver', 'TIMER_DELIVER_MS', 'TagT', 'dk-deliver');
  const sec = mk('timer-sec', 'TIMER_DELAY_SEC', 'TagT', 'dk-sec');
  sec.msg.properties['TIMER_DELAY_SEC'] = '2';
  sec.rel = 2000;
  const ms = mk('timer-ms', 'TIMER_DELAY_MS', 'TagT', 'dk-ms');
  ms.msg.properties['TIMER_DELAY_MS'] = '2500';
  ms.rel = 2500;
  if (apache) for (const d of [deliver, sec, ms]) d.early = APACHE_TIMER_EARLY_MS + DELAY_EARLY_MS;
  // ali-ons' own API: Message#setStartDeliverTime → __STARTDELIVERTIME (Aliyun ONS). Diglot honours it; Apache
  // RocketMQ does not (it delivers at once), so there the message is only checked to arrive once and intact.
  const start = mk('start-deliver', '__STARTDELIVERTIME', 'TagS', 'dk-start');
  start.timed = !apache;
  start.delayed = !apache;
  for (let i = 0; i < 3; i++) mk(`now-${i}`, 'no delay', 'TagN', `dk-now-${i}`);
  const byName = new Map(cases.map((d) => [d.name, d]));
  for (const nm of ['level2-0', 'now-0', 'level1-0', 'timer-deliver', 'start-deliver', 'timer-sec', 'now-1', 'timer-ms', 'level1-1', 'level2-1', 'now-2']) {
    const d = byName.get(nm)!;
    if (d === deliver) {
      d.due = Date.now() + 3000;
      d.msg.properties['TIMER_DELIVER_MS'] = String(d.due);
    } else if (d === start) {
      d.due = Date.now() + 3500;
      d.msg.setStartDeliverTime(d.due);
    }
    d.sendStart = Date.now();
    const res = await send(p, d.msg);
    d.sent = Date.now();
    if (d.rel !== undefined) d.due = d.sendStart + d.rel;
    if (d.due === 0) d.due = d.sendStart;
    d.queue = Number(res.messageQueue.queueId);
  }
  const lastDue = Math.max(...cases.map((d) => d.due));
  log(`sent ${cases.length} messages; last due in ${lastDue - Date.now()} ms`);
  const missing = () => cases.filter((d) => !got.has(d.body)).map((d) => d.name);
  await waitFor(lastDue - Date.now() + 60000, `all ${cases.length} messages`, () => missing().length === 0, () => `missing ${missing()}`);
  await sleep(2000); // duplicates
  for (const body of got.keys()) check(body === 'warm-up' || cases.some((d) => d.body === body), `unexpected message consumed: ${body}`);
  const timings: string[] = [];
  const delayProp = new Set<string>();
  let maxImmediate = 0;
  for (const d of cases) {
    const rs = got.get(d.body)!;
    const what = `${d.name} (${d.kind})`;
    check(rs.length === 1, `${what}: delivered ${rs.length} times`);
    const { at, msg } = rs[0]!;
    const props = msg.properties as Record<string, string>;
    check(msg.topic === topic, `${what}: consumed from topic ${msg.topic}`);
    check(Number(msg.queueId) === d.queue, `${what}: sent to queue ${d.queue}, consumed from ${msg.queueId}`);
    check(msg.keys === d.keys && msg.tags === d.tag, `${what}: keys/tag ${msg.keys}/${msg.tags}`);
    check(props['kind'] === d.kind && props['utf8'] === '\u00fcber \u4e2d\u6587', `${what}: user properties ${JSON.stringify(props)}`);
    check(Number(msg.reconsumeTimes) === 0, `${what}: reconsumeTimes ${msg.reconsumeTimes}`);
    // (no msgId check: ali-ons sets no UNIQ_KEY, so its msgId is the offsetMsgId, which a delayed message changes)
    if (!d.delayed) {
      if (d.kind === 'no delay') {
        const lat = at - d.sent;
        check(lat <= IMMEDIATE_MS, `${what}: consumed ${lat} ms after its send returned (no delay: within ${IMMEDIATE_MS} ms)`);
        maxImmediate = Math.max(maxImmediate, lat);
      }
      continue;
    }
    // Apache keeps DELAY=<level> on the delivered message; Diglot's contract removes it. Either is accepted.
    const dl = props['DELAY'];
    check(dl === undefined || dl === d.level, `${what}: DELAY property ${dl} on the delivered message, sent ${d.level}`);
    if (d.level) delayProp.add(dl === undefined ? 'removed' : 'kept');
    check(props['REAL_TOPIC'] === topic, `${what}: REAL_TOPIC ${props['REAL_TOPIC']} (RocketMQ sets it to the topic sent to)`);
    check(props['REAL_QID'] === String(d.queue), `${what}: REAL_QID ${props['REAL_QID']}, sent to queue ${d.queue}`);
    const t = (ms: number) => new Date(ms).toISOString().slice(11, 23);
    check(d.due - at <= d.early, `${what}: consumed ${d.due - at} ms BEFORE its due time (sent at ${t(d.sendStart)}, due ${t(d.due)}, consumed ${t(at)}; tolerance ${d.early} ms)`);
    check(at - d.due <= DELAY_LATE_MS, `${what}: consumed ${at - d.due} ms after its due time (tolerance ${DELAY_LATE_MS} ms)`);
    timings.push(`${d.name} ${at - d.due >= 0 ? '+' : ''}${at - d.due}`);
  }
  return `11 messages (delay level 1 ×2, level 2 ×2, TIMER_DELIVER_MS/TIMER_DELAY_SEC/TIMER_DELAY_MS as properties, setStartDeliverTime → __STARTDELIVERTIME, 3 without delay) each consumed once on its topic/queue with keys, tag, properties, REAL_TOPIC/REAL_QID; DELAY property ${[...delayProp].join('/')} on delivery; ms after due: ${timings.join(', ')}`
    + (apache ? ' (Apache rounds timer times down to 1 s: allowed 1 s early; it ignores __STARTDELIVERTIME, so that one is checked for arrival only)' : '')
    + `; no-delay messages within ${maxImmediate} ms`;
}

// ------------------------------------------------------------------ cross-kafka

async function scenarioCrossKafka(): Promise<string> {
  if (!KAFKA_BOOTSTRAP) throw new Skip(`KAFKA_BOOTSTRAP is empty: target ${TARGET} has no Kafka listener sharing the RocketMQ store`);
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ clientId: `alions-x-${RUN_ID}`, brokers: [KAFKA_BOOTSTRAP], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  const k2r = name('x_k2r');
  const r2k = name('x_r2k');
  await admin.createTopics({ topics: [ { topic: k2r, numPartitions: 4, replicationFactor: 1 }, { topic: r2k, numPartitions: 4, replicationFactor: 1 } ], waitForLeaders: true });
  log(`created ${k2r} and ${r2k} with 4 partitions over Kafka`);
  // Kafka → RocketMQ
  const producer = kafka.producer();
  await producer.connect();
  closers.push(() => producer.disconnect());
  const sent = new Map<string, [number, number]>();
  for (let i = 0; i < 20; i++) {
    const value = `v-${i}-\u00e9`;
    const [res] = await producer.send({ topic: k2r, messages: [ { key: `k-${i}`, value, headers: { TAGS: i % 2 ? 'TagL' : 'TagK', u1: `x-${i}`, u2: '\u00fc' } } ] });
    sent.set(value, [res.partition, Number(res.baseOffset)]);
  }
  const col = new Collector();
  await startConsumer(name('x_cg'), 'x1', k2r, '*', col);
  await waitFor(60000, '20 Kafka records as RocketMQ messages', () => col.distinct() >= 20, () => `${col.distinct()}`);
  await sleep(1000);
  for (const r of col.list) {
    const m = /^v-(\d+)-/.exec(r.body);
    check(m, `unexpected body ${r.body}`);
    const i = Number(m[1]);
    check(r.keys === `k-${i}`, `${r.body}: keys ${r.keys}`);
    check(r.tags === (i % 2 ? 'TagL' : 'TagK'), `${r.body}: tag ${r.tags}`);
    check(r.props['u1'] === `x-${i}` && r.props['u2'] === '\u00fc', `${r.body}: properties ${JSON.stringify(r.props)}`);
    const [part, off] = sent.get(r.body)!;
    check(r.queue === part && r.offset === off, `${r.body}: produced to ${part}/${off}, consumed from queue ${r.queue} offset ${r.offset}`);
  }
  check(col.list.length === 20, `${col.list.length} deliveries, want 20`);
  // RocketMQ → Kafka (ali-ons sets no UNIQ_KEY, so only TAGS, KEYS and user properties travel)
  const p = await newProducer(name('x_pg'));
  const rs = new Map<string, any>();
  for (let i = 0; i < 20; i++) {
    const body = `r-${i}-\u2713`;
    const msg = message(r2k, 'TagR', body);
    msg.keys = [`rk-${i}`];
    msg.properties['up'] = `w-${i}`;
    rs.set(body, await sendRetrying(p, msg, 30000));
  }
  const kc = kafka.consumer({ groupId: name('x_kg') });
  await kc.connect();
  closers.push(() => kc.disconnect());
  await kc.subscribe({ topic: r2k, fromBeginning: true });
  const got: any[] = [];
  await kc.run({ eachMessage: async ({ partition, message: m }: any) => { got.push({ partition, ...m }); } });
  await waitFor(60000, 'Kafka consumer to read 20 records', () => got.length >= 20, () => `${got.length}`);
  for (const m of got) {
    const value = m.value.toString();
    const i = Number(/^r-(\d+)-/.exec(value)?.[1]);
    check(m.key?.toString() === `rk-${i}`, `${value}: key ${m.key}`);
    const h = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]: [string, any]) => [k, v?.toString()]));
    check(h['TAGS'] === 'TagR', `${value}: header TAGS ${h['TAGS']} (headers ${JSON.stringify(h)})`);
    check(h['up'] === `w-${i}`, `${value}: header up ${h['up']}`);
    const s = rs.get(value);
    check(m.partition === Number(s.messageQueue.queueId) && Number(m.offset) === s.queueOffset, `${value}: sent to ${s.messageQueue.queueId}/${s.queueOffset}, read from ${m.partition}/${m.offset}`);
  }
  return 'Kafka→RocketMQ 20 records: body=value, keys=key, tag=TAGS header, user properties=headers, queue/offset=partition/offset; RocketMQ→Kafka 20 messages: value=body, key=KEYS, headers TAGS and user property, partition/offset=queue/offset (ali-ons sets no UNIQ_KEY)';
}

// ------------------------------------------------------------------ main

const scenarios: Record<string, () => Promise<string>> = {
  send: scenarioSend,
  cluster: scenarioCluster,
  broadcast: scenarioBroadcast,
  orderly: scenarioOrderly,
  litepull: async () => { throw new Skip('ali-ons 3.12.0 has only a push consumer (MQPushConsumer): no pull / lite-pull consumer and no seek API'); },
  'filter-tag': scenarioFilterTag,
  'filter-sql': scenarioFilterSQL,
  'retry-dlq': scenarioRetryDLQ,
  delay: scenarioDelay,
  query: async () => { throw new Skip('ali-ons 3.12.0 has no query-by-key or view-by-id API (QUERY_MESSAGE 12 / VIEW_MESSAGE_BY_ID 33 are not implemented; viewMessage is commented out in mq_push_consumer.js)'); },
  'cross-kafka': scenarioCrossKafka,
};

async function main(): Promise<void> {
  const which = process.argv[2] ?? '';
  const fn = scenarios[which];
  if (!fn) {
    emit({ ok: false, detail: `unknown scenario ${which}` });
    process.exit(2);
  }
  log(`scenario ${which}, NAMESRV=${NAMESRV} KAFKA_BOOTSTRAP=${JSON.stringify(KAFKA_BOOTSTRAP)} RUN_ID=${RUN_ID} target=${TARGET}`);
  let out: Record<string, unknown>;
  let code = 0;
  try {
    out = { ok: true, detail: await fn() };
  } catch (e) {
    if (e instanceof Skip) out = { skip: e.message };
    else {
      code = 1;
      if (!(e instanceof Fail)) process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      out = { ok: false, detail: e instanceof Fail ? e.message : `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
    }
  }
  // close clients (bounded), then exit: ali-ons keeps timers of its shared client instances alive
  await Promise.race([Promise.allSettled(closers.reverse().map((c) => c())), sleep(5000)]);
  emit(out);
  process.exit(code);
}

process.on('unhandledRejection', (e) => log(`unhandled rejection: ${e instanceof Error ? e.message : String(e)}`));
await main();
