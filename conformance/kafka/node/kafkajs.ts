// Conformance driver for kafkajs 2.2.4 (the project's devDependency). See common.ts for the protocol.
import kafkajs from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka as KafkaT, KafkaMessage, Message, Producer } from 'kafkajs';

import {
  BOOTSTRAP,
  RUN_ID,
  check,
  checkOrder,
  compareRoundtrip,
  delaySpecs,
  DelayCollector,
  disjointCover,
  log,
  main,
  offsetsExactly,
  restartBroker,
  showAssign,
  sleep,
  specs,
  waitFor,
  type Got,
  type ORec,
  type Spec,
} from './common.ts';

const { Kafka, CompressionTypes, logLevel, Partitioners, ConfigResourceTypes } = kafkajs;

const kafka: KafkaT = new Kafka({
  clientId: 'conformance-kafkajs',
  brokers: [BOOTSTRAP],
  connectionTimeout: 10_000,
  requestTimeout: 30_000,
  retry: { retries: 10, initialRetryTime: 200 },
  logLevel: logLevel.WARN,
  // kafkajs logs to stdout by default; stdout carries the result line, so log to stderr.
  logCreator: () => ({ namespace, level, log: entry }) => {
    const { message, ...extra } = entry;
    process.stderr.write(`[kafkajs ${level} ${namespace}] ${message} ${JSON.stringify(extra)}\n`);
  },
});

async function withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
  const a = kafka.admin();
  await a.connect();
  try {
    return await fn(a);
  } finally {
    await a.disconnect();
  }
}

async function createTopic(a: Admin, topic: string, numPartitions: number, configEntries: Array<{ name: string; value: string }> = []): Promise<void> {
  const created = await a.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }], waitForLeaders: true, timeout: 30_000 });
  check(created, `createTopics(${topic}) returned false (already exists?)`);
}

async function producer(opts: Parameters<KafkaT['producer']>[0] = {}): Promise<Producer> {
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...opts });
  await p.connect();
  return p;
}

function str(b: Buffer | string | null | undefined): string | null {
  return b === null || b === undefined ? null : b.toString();
}

/** kafkajs has no assign(): a throwaway group reads the topic from the start. */
async function consumeAll(topic: string, want: number, timeoutMs: number): Promise<Array<{ partition: number; m: KafkaMessage }>> {
  const c = kafka.consumer({ groupId: `read-${topic}`, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const out: Array<{ partition: number; m: KafkaMessage }> = [];
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch }: EachBatchPayload) => {
      for (const m of batch.messages) out.push({ partition: batch.partition, m });
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (out.length < want && Date.now() < deadline) await sleep(50);
  await sleep(500);
  await c.disconnect();
  return out;
}

const CODECS: Array<[string, number | undefined]> = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  // kafkajs ships only gzip; snappy, lz4 and zstd need codec plugins (kafkajs-snappy, kafkajs-lz4,
  // @kafkajs/zstd) that this project does not install.
  ['snappy', undefined],
  ['lz4', undefined],
  ['zstd', undefined],
];

/** kafkajs represents headers as an object per key (repeated keys become arrays), so they come back grouped by key. */
function groupedHeaders(hs: Array<[string, string]>): Array<[string, string]> {
  const keys: string[] = [];
  for (const [k] of hs) if (!keys.includes(k)) keys.push(k);
  return keys.flatMap((k) => hs.filter(([hk]) => hk === k));
}

function toHeaders(hs: Array<[string, string]>): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of hs) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...(prev as string[]), v] : [prev as string, v];
  }
  return out;
}

function fromHeaders(h: IHeaders | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) out.push([k, str(one as Buffer | string | undefined) ?? '']);
  }
  return out;
}

async function roundtrip(): Promise<string> {
  const done: string[] = [];
  const na: string[] = [];
  for (const [codec, type] of CODECS) {
    if (type === undefined) {
      na.push(codec);
      continue;
    }
    const topic = `rt-${codec}-kafkajs-${RUN_ID}`;
    await withAdmin((a) => createTopic(a, topic, 1));
    const base = Date.now() - 3_600_000;
    const want: Spec[] = specs(base).map((s) => ({ ...s, headers: groupedHeaders(s.headers) }));
    const before = Date.now();
    const p = await producer();
    const messages: Message[] = want.map((s) => ({
      partition: 0,
      key: s.key,
      value: s.value,
      headers: s.headers.length ? toHeaders(s.headers) : undefined,
      timestamp: s.ts === null ? undefined : String(s.ts),
    }));
    await p.send({ topic, acks: -1, compression: type, messages });
    await p.disconnect();
    const after = Date.now();
    const got: Got[] = (await consumeAll(topic, want.length, 30_000)).map(({ m }) => ({
      offset: Number(m.offset),
      key: str(m.key),
      value: str(m.value),
      headers: fromHeaders(m.headers),
      ts: Number(m.timestamp),
    }));
    compareRoundtrip(codec, want, got, before, after);
    done.push(codec);
    log(`roundtrip ${codec} ok`);
  }
  return `20 records × ${done.join('/')}: keys, null key/value, headers (per-key object, so compared grouped by key), timestamps match; ${na.join('/')} n/a (kafkajs needs codec plugins)`;
}

async function idempotent(): Promise<string> {
  const n = 5000;
  const topic = `idem-kafkajs-${RUN_ID}`;
  await withAdmin((a) => createTopic(a, topic, 1));
  // kafkajs: idempotent: false by default; idempotence needs maxInFlightRequests 1 and retries.
  const p = await producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
  for (let i = 0; i < n; i += 50) {
    const messages: Message[] = [];
    for (let j = i; j < i + 50; j++) messages.push({ partition: 0, key: `k${j % 10}`, value: String(j) });
    await p.send({ topic, acks: -1, messages });
  }
  await p.disconnect();
  const got = await consumeAll(topic, n, 60_000);
  check(got.length === n, `consumed ${got.length} records, want exactly ${n}`);
  got.forEach(({ m }, i) => check(str(m.value) === String(i) && Number(m.offset) === i, () => `record at offset ${m.offset} is ${str(m.value)}`));
  return `${n} records, idempotent: true (1 in flight, sends of 50): exactly once, in order`;
}

async function order100k(): Promise<string> {
  const n = 100_000;
  const parts = 6;
  const topic = `order-kafkajs-${RUN_ID}`;
  await withAdmin((a) => createTopic(a, topic, parts));
  const t0 = Date.now();
  const p = await producer({ idempotent: true, maxInFlightRequests: 1 });
  for (let i = 0; i < n; i += 2000) {
    const messages: Message[] = [];
    for (let j = i; j < Math.min(n, i + 2000); j++) messages.push({ key: `key-${j % 1000}`, value: String(j) });
    await p.send({ topic, acks: -1, messages });
  }
  await p.disconnect();
  const t1 = Date.now();
  const recs: ORec[] = (await consumeAll(topic, n, 150_000)).map(({ partition, m }) => ({
    partition,
    offset: Number(m.offset),
    key: str(m.key) ?? '',
    value: str(m.value) ?? '',
  }));
  return checkOrder(recs, n, parts) + ` (produce ${t1 - t0} ms, consume ${Date.now() - t1} ms)`;
}

// ------------------------------------------------------------------ group

class Member {
  readonly name: string;
  readonly c: Consumer;
  assigned: number[] = [];
  readonly got = new Map<number, number[]>();
  /** Highest consumed offset + 1 per partition, for commits. */
  readonly next = new Map<number, number>();

  constructor(name: string, group: string, topic: string) {
    this.name = name;
    this.c = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000, maxWaitTimeInMs: 200 });
    this.c.on(this.c.events.GROUP_JOIN, (e) => {
      this.assigned = [...(e.payload.memberAssignment[topic] ?? [])];
    });
    this.topic = topic;
  }

  private readonly topic: string;

  async start(): Promise<this> {
    await this.c.connect();
    await this.c.subscribe({ topic: this.topic, fromBeginning: true });
    await this.c.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const l = this.got.get(partition) ?? [];
        l.push(Number(message.offset));
        this.got.set(partition, l);
        this.next.set(partition, Number(message.offset) + 1);
      },
    });
    return this;
  }

  count(): number {
    let n = 0;
    for (const l of this.got.values()) n += l.length;
    return n;
  }
}

async function produceEach(topic: string, parts: number, per: number, tag: string): Promise<void> {
  // Idempotent: kafkajs retries a whole multi-partition send when one partition fails (e.g. NOT_LEADER right after
  // a broker restart), which would duplicate the partitions that had succeeded.
  const p = await producer({ idempotent: true, maxInFlightRequests: 1 });
  const messages: Message[] = [];
  for (let part = 0; part < parts; part++) for (let i = 0; i < per; i++) messages.push({ partition: part, key: `k${i}`, value: `${tag}-${part}-${i}` });
  await p.send({ topic, acks: -1, messages });
  await p.disconnect();
}

async function group(): Promise<string> {
  const parts = 6;
  const per = 50;
  const topic = `grp-kafkajs-${RUN_ID}`;
  const groupId = topic;
  await withAdmin((a) => createTopic(a, topic, parts));
  const ms = await Promise.all(['c1', 'c2', 'c3'].map((n) => new Member(n, groupId, topic).start()));
  const state = () => `assignments: ${showAssign(ms.map((m) => m.name), ms.map((m) => m.assigned))}`;
  const sum = () => ms.reduce((t, m) => t + m.count(), 0);
  await waitFor(60_000, '3 members to share 6 partitions', () => disjointCover(ms.map((m) => m.assigned), parts), state);
  const phaseA = showAssign(ms.map((m) => m.name), ms.map((m) => m.assigned));
  log(`phase A assignment ${phaseA}`);
  await produceEach(topic, parts, per, 'A');
  await waitFor(30_000, 'batch A (300 records)', () => sum() >= parts * per, state);
  for (const m of ms) await m.c.commitOffsets([...m.next].map(([partition, o]) => ({ topic, partition, offset: String(o) })));
  const leaving = ms.pop()!;
  await leaving.c.disconnect();
  await waitFor(60_000, '2 remaining members to take all 6 partitions', () => disjointCover(ms.map((m) => m.assigned), parts), state);
  const phaseB = showAssign(ms.map((m) => m.name), ms.map((m) => m.assigned));
  log(`phase B assignment ${phaseB}`);
  const countA = sum();
  await produceEach(topic, parts, per, 'B');
  await waitFor(30_000, 'batch B (300 records)', () => sum() >= countA + parts * per, state);
  for (const m of ms) await m.c.commitOffsets(m.assigned.map((partition) => ({ topic, partition, offset: String(per + per / 2) })));
  const all = new Map<number, number[]>();
  for (const m of [...ms, leaving]) for (const [p, l] of m.got) all.set(p, [...(all.get(p) ?? []), ...l]);
  offsetsExactly('before restart', all, parts, 0, 2 * per);
  for (const m of ms) await m.c.disconnect();

  await restartBroker();

  await produceEach(topic, parts, per, 'C');
  // One fresh member: two would re-read each other's uncommitted records during their first rebalance.
  const r = await new Member('r1', groupId, topic).start();
  const want = parts * (per / 2 + per);
  await waitFor(90_000, `resume after restart (${want} records)`, () => r.count() >= want, () => `got ${r.count()}, assigned ${r.assigned}`);
  await sleep(1500);
  await r.c.disconnect();
  offsetsExactly('after restart', r.got, parts, per + per / 2, 3 * per);
  return `3 members [${phaseA}] → c3 left [${phaseB}]; committed 75/partition; after broker restart a fresh member resumed at 75: no loss, no re-delivery of committed records`;
}

// ------------------------------------------------------------------ seek-timestamp

async function seekTimestamp(): Promise<string> {
  const topic = `ts-kafkajs-${RUN_ID}`;
  const base = Date.now() - 3_600_000;
  return withAdmin(async (a) => {
    await createTopic(a, topic, 1);
    const p = await producer();
    const messages: Message[] = [];
    for (let i = 0; i < 30; i++) messages.push({ partition: 0, key: `k${i}`, value: `v${i}`, timestamp: String(base + i * 1000) });
    await p.send({ topic, acks: -1, messages });
    await p.disconnect();
    const at = async (ts: number) => Number((await a.fetchTopicOffsetsByTimestamp(topic, ts)).find((x) => x.partition === 0)?.offset);
    check((await at(base + 10_000)) === 10, `fetchTopicOffsetsByTimestamp(ts of #10) = ${await at(base + 10_000)}`);
    check((await at(base + 10_500)) === 11, `fetchTopicOffsetsByTimestamp(between #10 and #11) = ${await at(base + 10_500)}`);
    check((await at(base - 100_000)) === 0, `fetchTopicOffsetsByTimestamp(before first) = ${await at(base - 100_000)}`);
    // kafkajs maps Kafka's -1 (no such record) to the high watermark.
    check((await at(base + 1_000_000)) === 30, `fetchTopicOffsetsByTimestamp(after last) = ${await at(base + 1_000_000)}, want 30 (end)`);
    const offs = await a.fetchTopicOffsets(topic);
    check(offs[0]!.low === '0' && offs[0]!.high === '30', `low/high ${offs[0]!.low}/${offs[0]!.high}`);
    const c = kafka.consumer({ groupId: `seek-${topic}`, maxWaitTimeInMs: 200 });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    const got: KafkaMessage[] = [];
    let seeked = false;
    await c.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (seeked) got.push(message);
      },
    });
    c.seek({ topic, partition: 0, offset: String(await at(base + 10_000)) });
    seeked = true;
    await waitFor(20_000, '20 records after seek', () => got.length >= 20, () => `got ${got.length}`);
    await c.disconnect();
    // Records fetched before the seek took effect would start below 10; drop nothing, just check.
    const first = got.findIndex((m) => Number(m.offset) === 10);
    check(first === 0, `first record after seek has offset ${got[0]?.offset}, want 10`);
    got.slice(0, 20).forEach((m, i) =>
      check(Number(m.offset) === 10 + i && Number(m.timestamp) === base + (10 + i) * 1000 && str(m.value) === `v${10 + i}`,
        () => `record ${i} after seek: offset ${m.offset} ts ${m.timestamp} value ${str(m.value)}`));
    return 'fetchTopicOffsetsByTimestamp exact/between/before/after-last ok; consumed 20 records after seek';
  });
}

// ------------------------------------------------------------------ admin

async function configValue(a: Admin, topic: string, key: string): Promise<string | undefined> {
  const r = await a.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
  return r.resources[0]?.configEntries.find((e) => e.configName === key)?.configValue;
}

async function awaitConfig(a: Admin, topic: string, key: string, want: (v: string | undefined) => boolean): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await configValue(a, topic, key);
    if (want(v) || Date.now() > deadline) return v;
    await sleep(100);
  }
}

async function adminScenario(): Promise<string> {
  const topic = `adm-kafkajs-${RUN_ID}`;
  const steps: string[] = [];
  return withAdmin(async (a) => {
    await createTopic(a, topic, 3, [{ name: 'retention.ms', value: '123456789' }]);
    steps.push('create');
    const md = await a.fetchTopicMetadata({ topics: [topic] });
    check(md.topics[0]?.partitions.length === 3, `fetchTopicMetadata: ${md.topics[0]?.partitions.length} partitions, want 3`);
    check((await a.listTopics()).includes(topic), `listTopics lacks ${topic}`);
    steps.push('describe-topics');
    const cl = await a.describeCluster();
    check(cl.brokers.length > 0 && cl.clusterId, `describeCluster: ${JSON.stringify(cl)}`);
    steps.push(`describe-cluster(${cl.brokers.length} node, controller ${cl.controller})`);
    let v = await awaitConfig(a, topic, 'retention.ms', (x) => x === '123456789');
    check(v === '123456789', `describeConfigs retention.ms = ${v}`);
    v = await awaitConfig(a, topic, 'cleanup.policy', (x) => x === 'delete');
    check(v === 'delete', `describeConfigs cleanup.policy = ${v}, want the default delete`);
    steps.push('describe-configs');
    // kafkajs has no IncrementalAlterConfigs: AlterConfigs replaces the whole set of topic overrides.
    await a.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [
      { name: 'retention.ms', value: '987654321' }, { name: 'max.message.bytes', value: '2000000' }] }] });
    v = await awaitConfig(a, topic, 'retention.ms', (x) => x === '987654321');
    check(v === '987654321', `after alterConfigs retention.ms = ${v}`);
    v = await awaitConfig(a, topic, 'max.message.bytes', (x) => x === '2000000');
    check(v === '2000000', `after alterConfigs max.message.bytes = ${v}`);
    await a.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '987654321' }] }] });
    v = await awaitConfig(a, topic, 'max.message.bytes', (x) => x !== '2000000');
    check(v !== '2000000', 'after alterConfigs without max.message.bytes it is still 2000000 (AlterConfigs must reset omitted keys)');
    steps.push('alter-configs(non-incremental: set, reset by omission)');
    await a.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    await waitFor(20_000, '5 partitions', async () => (await a.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length === 5);
    steps.push('create-partitions(3→5)');
    await a.deleteTopics({ topics: [topic], timeout: 30_000 });
    await waitFor(20_000, 'topic gone after deleteTopics', async () => !(await a.listTopics()).includes(topic));
    steps.push('delete-topic');
    return steps.join(', ');
  });
}

// ------------------------------------------------------------------ groups-admin

async function groupsAdmin(): Promise<string> {
  const topic = `gadm-kafkajs-${RUN_ID}`;
  const groupId = topic;
  const steps: string[] = [];
  return withAdmin(async (a) => {
    await createTopic(a, topic, 2);
    await produceEach(topic, 2, 10, 'G');
    const m = await new Member('g1', groupId, topic).start();
    await waitFor(60_000, '20 records in the group', () => m.count() >= 20, () => String(m.count()));
    await m.c.commitOffsets([{ topic, partition: 0, offset: '7' }, { topic, partition: 1, offset: '10' }]);
    let d = (await a.describeGroups([groupId])).groups[0]!;
    check(d.state === 'Stable' && d.members.length === 1, `describeGroups (active): state ${d.state}, ${d.members.length} members`);
    steps.push('describe(active: stable, 1 member)');
    await m.c.disconnect();
    const listed = async () => (await a.listGroups()).groups.some((g) => g.groupId === groupId);
    check(await listed(), `listGroups lacks ${groupId}`);
    steps.push('list');
    d = (await a.describeGroups([groupId])).groups[0]!;
    check(d.state === 'Empty' && d.members.length === 0, `describeGroups (after close): state ${d.state}, ${d.members.length} members`);
    steps.push('describe(empty)');
    const offs = (await a.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
    const at = (p: number) => offs.find((x) => x.partition === p)?.offset;
    check(at(0) === '7' && at(1) === '10', `fetchOffsets = ${JSON.stringify(offs)}`);
    steps.push('list-offsets(7,10)');
    steps.push('delete-offsets n/a (kafkajs has no OffsetDelete)');
    await a.deleteGroups([groupId]);
    check(!(await listed()), 'group still listed after deleteGroups');
    steps.push('delete-group');
    await a.deleteTopics({ topics: [topic] });
    return steps.join(', ');
  });
}

// ------------------------------------------------------------------ delay

/** README "delay": a delay-enabled 2-partition topic, a consumer (kafkajs has no assign(): a throwaway group) already
 *  reading both partitions, one send of the shared record set; see DelayCollector.check. */
async function delay(): Promise<string> {
  const topic = `delay-kafkajs-${RUN_ID}`;
  await withAdmin((a) => createTopic(a, topic, 2, [{ name: 'diglot.delay.enable', value: 'true' }]));
  const specs = delaySpecs();
  const col = new DelayCollector(specs);
  const c = kafka.consumer({ groupId: `read-${topic}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch }: EachBatchPayload) => {
      const at = Date.now();
      for (const m of batch.messages) {
        const hs: Array<[string, string]> = [];
        for (const [k, v] of Object.entries(m.headers ?? {})) for (const x of Array.isArray(v) ? v : [v]) hs.push([k, str(x) ?? '']);
        col.add(at, batch.partition, m.offset, str(m.key), str(m.value), hs);
      }
    },
  });
  const p = await producer();
  try {
    await p.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ partition, key: 'warm', value: `warm-up-${partition}` })) });
    await waitFor(30_000, 'the 2 warm-up records (no delay headers)', () => col.warm.size >= 2, () => `${[...col.warm]}`);
    log('consumer ready');
    const sendStart = Date.now();
    const messages: Message[] = specs.map((d) => {
      d.setDue(sendStart);
      return { partition: d.partition, key: d.key, value: d.value, headers: Object.fromEntries(d.headers()) as IHeaders };
    });
    const res = await p.send({ topic, acks: -1, messages });
    const sendEnd = Date.now();
    const base = new Map(res.map((r) => [r.partition, Number(r.baseOffset)]));
    const idx = new Map<number, number>();
    for (const d of specs) {
      const i = idx.get(d.partition) ?? 0;
      idx.set(d.partition, i + 1);
      const b = base.get(d.partition)!;
      d.offset = b < 0 ? b : b + i;
    }
    log(`produced ${specs.length} records in ${sendEnd - sendStart} ms`);
    await col.await();
    return col.check(sendStart, sendEnd);
  } finally {
    await p.disconnect();
    await c.disconnect();
  }
}

await main('kafkajs', {
  roundtrip,
  idempotent,
  order100k,
  group,
  'seek-timestamp': seekTimestamp,
  admin: adminScenario,
  'groups-admin': groupsAdmin,
  delay,
});
