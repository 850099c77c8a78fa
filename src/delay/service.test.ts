import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { forEachBatch, readRecords, type DecodedRecord } from '../storage/records.ts';
import { LmdbDelayIndex, MemoryDelayIndex, type DelayIndex } from './index-store.ts';
import { DELAY_TOPIC } from './log-records.ts';
import { DelayError, DelayService, DISPATCH_BATCH_MAX, nextFireMs, type DelayTargets, type ScheduleRequest } from './service.ts';

const PARTITIONS = 3;

interface Harness {
  dir: string;
  lm: LogManager;
  service: DelayService;
  clock: { now: number };
  /** Fails target appends after this many (a crash in the middle of a round). */
  crashAfterAppends: { left: number };
  delivered(partition?: number): DecodedRecord[];
  reopen(options?: { dropIndex?: boolean }): Promise<void>;
  close(): Promise<void>;
}

function targetsOf(lm: LogManager, crash: { left: number }, topics: Map<string, number>): DelayTargets {
  return {
    partitionCount: (topic) => topics.get(topic),
    endOffset: (topic, p) => lm.getOrCreate(topic, p).logEndOffset,
    append: (topic, p, batch) => {
      if (crash.left-- <= 0) throw new Error('injected crash');
      lm.getOrCreate(topic, p).append(batch);
    },
    commit: () => lm.commitStaged(),
    read: (topic, p, offset, maxBytes) => lm.getOrCreate(topic, p).read(offset, maxBytes),
  };
}

interface HarnessOptions {
  /** Timers dispatch (with the read ahead of #tickRound) instead of the test calling runDue(). */
  autoDispatch?: boolean;
  onError?: (err: unknown, context: string) => void;
  /** Sees (and may wrap methods of) `__delay` before the service gets it. */
  spyLog?: (log: PartitionLog) => void;
}

async function harness(kind: 'memory' | 'lmdb', options: HarnessOptions = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-'));
  const clock = { now: 1_700_000_000_000 };
  const crash = { left: Infinity };
  const topics = new Map([['t', PARTITIONS], ['u', 1]]);
  let memoryIndex: MemoryDelayIndex | null = kind === 'memory' ? new MemoryDelayIndex() : null;
  const openIndex = (): DelayIndex => memoryIndex ?? LmdbDelayIndex.open(path.join(dir, 'index'), { nowMs: () => clock.now });
  let lm = await LogManager.open({ dir: path.join(dir, 'logs'), nowMs: () => clock.now });
  const delayLog = (): PartitionLog => {
    const log = lm.getOrCreate(DELAY_TOPIC, 0, { segmentBytesMax: 4096 });
    options.spyLog?.(log);
    return log;
  };
  const open = (): DelayService =>
    DelayService.open({
      log: delayLog(),
      index: openIndex(),
      targets: targetsOf(lm, crash, topics),
      nowMs: () => clock.now,
      horizonMs: 365 * 86_400_000,
      autoDispatch: options.autoDispatch ?? false,
      ...(options.onError ? { onError: options.onError } : {}),
      advanceLogStart: (offset) => lm.advanceLogStart(lm.getOrCreate(DELAY_TOPIC, 0), offset),
    });
  const h: Harness = {
    dir,
    lm,
    service: open(),
    clock,
    crashAfterAppends: crash,
    delivered(partition?: number) {
      const out: DecodedRecord[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        if (partition !== undefined && p !== partition) continue;
        const log = lm.getOrCreate('t', p);
        let offset = 0;
        while (offset < log.logEndOffset) {
          const r = log.read(offset, 1 << 20);
          forEachBatch(r.bytes, (pos) => out.push(...readRecords(r.bytes, pos)));
          offset = r.nextOffset;
        }
      }
      return out;
    },
    async reopen(options = {}) {
      // Like kill -9 after the writes reached the OS: nothing more is written, the logs reopen from disk.
      await h.service.close().catch(() => {});
      await lm.close();
      if (options.dropIndex === true) {
        if (memoryIndex !== null) memoryIndex = new MemoryDelayIndex();
        else fs.rmSync(path.join(dir, 'index'), { recursive: true, force: true });
      }
      crash.left = Infinity;
      lm = await LogManager.open({ dir: path.join(dir, 'logs'), nowMs: () => clock.now });
      h.lm = lm;
      h.service = open();
    },
    async close() {
      await h.service.close().catch(() => {});
      await lm.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

function request(h: Harness, overrides: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return {
    topic: 't',
    partition: 0,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: [{ key: 'h', value: Buffer.from('x') }],
    timestampMs: h.clock.now,
    deliverAtMs: h.clock.now + 1000,
    repeat: null,
    ...overrides,
  };
}

function header(r: DecodedRecord, key: string): string | undefined {
  return r.headers.find((x) => x.key === key)?.value?.toString();
}

for (const kind of ['memory', 'lmdb'] as const) {
  test(`delay (${kind}): nothing is delivered before its time, everything at it, in due order, with its id`, async () => {
    const h = await harness(kind);
    try {
      const now = h.clock.now;
      const { ids } = h.service.schedule([
        request(h, { deliverAtMs: now + 3000, value: Buffer.from('c') }),
        request(h, { deliverAtMs: now + 1000, value: Buffer.from('a') }),
        request(h, { deliverAtMs: now + 2000, value: Buffer.from('b') }),
      ]);
      assert.equal(h.service.pendingCount, 3);
      assert.equal(h.service.runDue(), 0);
      h.clock.now = now + 999;
      assert.equal(h.service.runDue(), 0);
      assert.equal(h.delivered().length, 0);
      h.clock.now = now + 2000;
      assert.equal(h.service.runDue(), 2);
      assert.deepEqual(h.delivered().map((r) => r.value?.toString()), ['a', 'b']);
      h.clock.now = now + 10_000;
      assert.equal(h.service.runDue(), 1);
      const all = h.delivered();
      assert.deepEqual(all.map((r) => r.value?.toString()), ['a', 'b', 'c']);
      assert.deepEqual(all.map((r) => header(r, '__delay.id')), [ids[1], ids[2], ids[0]].map(String));
      assert.deepEqual(all.map((r) => header(r, '__delay.fire')), ['1', '1', '1']);
      assert.equal(header(all[0]!, 'h'), 'x');
      assert.equal(all[0]!.key?.toString(), 'k');
      assert.equal(all[0]!.headers.some((x) => x.key === '__delay.topic'), false);
      assert.equal(h.service.get(ids[0]!)?.state, 'delivered');
      assert.equal(h.service.get(ids[0]!)?.fires, 1);
      assert.equal(h.service.get(ids[0]!)?.value?.toString(), 'c');
      assert.equal(h.service.pendingCount, 0);
      // Past times deliver at once.
      h.service.schedule([request(h, { deliverAtMs: 0 })]);
      assert.equal(h.service.runDue(), 1);
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): a delivered message carries its own headers as sent, in order, then its id and fire — in a round and when a crashed round is settled`, async () => {
    const h = await harness(kind);
    try {
      const own = [
        { key: 'UNIQ_KEY', value: 'AC110001' },
        { key: 'clé', value: Buffer.from('键') },
        { key: 'nothing', value: null },
        { key: 'long', value: 'ü'.repeat(40) },
      ];
      const expected = (id: number) => [
        ...own.map((x) => [x.key, x.value === null ? null : Buffer.from(x.value).toString()]),
        ['__delay.id', String(id)],
        ['__delay.fire', '1'],
      ];
      const sent = (r: DecodedRecord) => r.headers.map((x) => [x.key, x.value === null ? null : x.value.toString()]);
      const t0 = h.clock.now;
      // A user header in the delay module's own namespace is not part of the message.
      const headers = [...own.slice(0, 2), { key: '__delay.topic', value: 'forged' }, ...own.slice(2)];
      const requests = [0, 1, 2].map((partition) => request(h, { partition, headers, deliverAtMs: t0 + 100 }));
      const first = h.service.schedule(requests).ids;
      h.clock.now = t0 + 200;
      assert.equal(h.service.runDue(), 3);
      assert.deepEqual(h.delivered().map(sent), first.map(expected));
      assert.deepEqual(h.service.get(first[0]!)?.headers.map((x) => x.key), own.map((x) => x.key));
      // The same after a crash in the middle of a round: the fires the targets lack are settled at open.
      const second = h.service.schedule(requests.map((r) => ({ ...r, deliverAtMs: t0 + 300 }))).ids;
      h.clock.now = t0 + 400;
      h.crashAfterAppends.left = 1;
      assert.throws(() => h.service.runDue(), /injected crash/);
      h.lm.commitStaged();
      await h.reopen();
      const byId = (r: DecodedRecord) => Number(header(r, '__delay.id'));
      const all = h.delivered();
      assert.equal(all.length, 6);
      const after = all.filter((r) => second.includes(byId(r))).sort((a, b) => byId(a) - byId(b));
      assert.deepEqual(after.map(sent), second.map(expected));
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): cancel is durable and final; unknown and finished ones are refused`, async () => {
    const h = await harness(kind);
    try {
      const { ids } = h.service.schedule([request(h), request(h, { value: Buffer.from('keep') })]);
      const cancelled = await h.service.cancel(ids[0]!);
      assert.equal(cancelled.state, 'cancelled');
      await assert.rejects(h.service.cancel(ids[0]!), (e: DelayError) => e.code === 'CONFLICT');
      await assert.rejects(h.service.cancel(9999), (e: DelayError) => e.code === 'NOT_FOUND');
      await h.reopen();
      h.clock.now += 5000;
      assert.equal(h.service.runDue(), 1);
      assert.deepEqual(h.delivered().map((r) => r.value?.toString()), ['keep']);
      assert.equal(h.service.get(ids[0]!)?.state, 'cancelled');
      await assert.rejects(h.service.cancel(ids[1]!), (e: DelayError) => e.code === 'CONFLICT');
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): hours to months ahead — each fires once at its time, in due order, across restarts, cancels and daily repeats`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const HOUR = 3_600_000;
      const DAY = 24 * HOUR;
      const dues = [3 * HOUR, 40 * DAY, 2 * DAY + 17, 5 * 60_000, 100 * DAY, 3 * HOUR + 1, 9 * DAY];
      const { ids } = h.service.schedule(dues.map((d, i) => request(h, { deliverAtMs: t0 + d, value: Buffer.from(`m${i}`) })));
      const daily = h.service.schedule([request(h, { deliverAtMs: t0 + DAY, value: Buffer.from('daily'), repeat: { intervalMs: DAY, multiplier: 1, maxIntervalMs: null, times: 4, untilMs: null } })]).ids[0]!;
      await h.service.cancel(ids[6]!); // 9 days ahead
      assert.equal(h.service.get(ids[4]!)?.state, 'pending');
      assert.equal(h.service.pendingCount, dues.length);
      const fired: Array<[string, number]> = [];
      // An hour per step, a restart (kill -9 style) every 10 days.
      for (let t = t0; t <= t0 + 101 * DAY; t += HOUR) {
        h.clock.now = t;
        if ((t - t0) % (10 * DAY) === 0 && t > t0) await h.reopen();
        const before = h.delivered().length;
        h.service.runDue();
        for (const r of h.delivered().slice(before)) fired.push([r.value!.toString(), t]);
      }
      const expected = [
        ...dues.map((d, i) => [`m${i}`, d] as [string, number]).filter(([v]) => v !== 'm6'),
        ...[1, 2, 3, 4].map((k) => ['daily', k * DAY] as [string, number]),
      ].sort((a, b) => a[1] - b[1]);
      assert.deepEqual(fired.map(([v]) => v), expected.map(([v]) => v), 'each once, in due order');
      for (const [v, t] of fired) {
        const due = expected.find(([w]) => w === v)![1];
        assert.ok(t - t0 >= due || v === 'daily', `${v} fired before its time`);
        assert.ok(v === 'daily' || t - t0 < due + HOUR, `${v} fired more than a step late`);
      }
      assert.equal(h.service.get(ids[6]!)?.state, 'cancelled');
      assert.equal(h.service.get(ids[4]!)?.state, 'delivered');
      assert.equal(h.service.get(daily)?.fires, 4);
      assert.equal(h.service.pendingCount, 0);
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): repeats with a fixed interval and with back-off, bounded by times and by until`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const fixed = h.service.schedule([request(h, { deliverAtMs: t0 + 100, repeat: { intervalMs: 100, multiplier: 1, maxIntervalMs: null, times: 3, untilMs: null } })]).ids[0]!;
      const backoff = h.service.schedule([
        request(h, { partition: 1, deliverAtMs: t0 + 100, repeat: { intervalMs: 100, multiplier: 2, maxIntervalMs: 300, times: null, untilMs: t0 + 1000 } }),
      ]).ids[0]!;
      const fires: Array<[number, number]> = [];
      const seen = new Set<string>();
      for (let t = t0; t <= t0 + 2000; t += 10) {
        h.clock.now = t;
        h.service.runDue();
        for (const r of h.delivered()) {
          const k = `${header(r, '__delay.id')}:${header(r, '__delay.fire')}`;
          if (seen.has(k)) continue;
          seen.add(k);
          fires.push([Number(header(r, '__delay.id')), t - t0]);
        }
      }
      assert.deepEqual(fires.filter(([id]) => id === fixed).map(([, t]) => t), [100, 200, 300]);
      // back-off: 100, +100, +200, +300 (capped), +300 → 1000; the next (1300) is after untilMs.
      assert.deepEqual(fires.filter(([id]) => id === backoff).map(([, t]) => t), [100, 200, 400, 700, 1000]);
      assert.equal(h.service.get(fixed)?.state, 'delivered');
      assert.equal(h.service.get(fixed)?.fires, 3);
      assert.equal(h.service.get(backoff)?.fires, 5);
      assert.deepEqual(h.delivered(1).map((r) => header(r, '__delay.fire')), ['1', '2', '3', '4', '5']);
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): bad requests are refused with the field, nothing stored`, async () => {
    const h = await harness(kind);
    try {
      const bad = (r: Partial<ScheduleRequest>, field: string, code = 'INVALID_ARGUMENT') =>
        assert.throws(() => h.service.schedule([request(h, r)]), (e: DelayError) => e.code === code && e.field === field);
      bad({ deliverAtMs: h.clock.now + 366 * 86_400_000 }, 'deliverAtMs', 'BEYOND_HORIZON');
      bad({ deliverAtMs: 1.5 }, 'deliverAtMs');
      bad({ topic: 'nope' }, 'topic', 'UNKNOWN_TOPIC_OR_PARTITION');
      bad({ partition: PARTITIONS }, 'partition', 'UNKNOWN_TOPIC_OR_PARTITION');
      bad({ repeat: { intervalMs: 0, multiplier: 1, maxIntervalMs: null, times: 2, untilMs: null } }, 'repeat.intervalMs');
      bad({ repeat: { intervalMs: 10, multiplier: 1, maxIntervalMs: null, times: null, untilMs: null } }, 'repeat');
      bad({ repeat: { intervalMs: 10, multiplier: 0.5, maxIntervalMs: null, times: 2, untilMs: null } }, 'repeat.multiplier');
      // One bad request in a batch refuses the whole batch.
      assert.throws(() => h.service.schedule([request(h), request(h, { topic: 'nope' })]));
      assert.equal(h.service.pendingCount, 0);
      assert.equal(h.lm.getOrCreate(DELAY_TOPIC, 0).logEndOffset, 0);
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): a crash in the middle of a round delivers each fire exactly once after restart`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const requests: ScheduleRequest[] = [];
      for (let i = 0; i < 30; i++) requests.push(request(h, { partition: i % PARTITIONS, deliverAtMs: t0 + 100, value: Buffer.from(`m${i}`) }));
      h.service.schedule(requests);
      h.clock.now = t0 + 200;
      h.crashAfterAppends.left = 1; // partition 0's batch is written, 1 and 2 are not
      assert.throws(() => h.service.runDue(), /injected crash/);
      h.lm.commitStaged();
      assert.equal(h.delivered().length, 10);
      await h.reopen();
      const values = h.delivered().map((r) => r.value?.toString()).sort();
      assert.deepEqual(values, requests.map((r) => r.value!.toString()).sort());
      assert.equal(h.service.pendingCount, 0);
      assert.equal(h.service.runDue(), 0);
      assert.equal(h.service.get(0)?.state, 'delivered');
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): the index is rebuilt from the log with the same states`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const { ids } = h.service.schedule([request(h, { deliverAtMs: t0 + 100 }), request(h, { deliverAtMs: t0 + 5000 }), request(h, { deliverAtMs: t0 + 6000 })]);
      await h.service.cancel(ids[2]!);
      h.clock.now = t0 + 1000;
      h.service.runDue();
      const before = ids.map((id) => h.service.get(id));
      await h.reopen({ dropIndex: true });
      assert.deepEqual(ids.map((id) => h.service.get(id)), before);
      assert.equal(h.service.pendingCount, 1);
      h.clock.now = t0 + 10_000;
      assert.equal(h.service.runDue(), 1);
      assert.equal(h.delivered().length, 2);
    } finally {
      await h.close();
    }
  });

  test(`delay (${kind}): list pages through a topic's pending schedules in a time window`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const requests: ScheduleRequest[] = [];
      for (let i = 0; i < 25; i++) {
        requests.push(request(h, { deliverAtMs: t0 + 1000 + (i % 5) * 100, value: Buffer.from(`m${i}`) }));
        if (i % 2 === 0) requests.push(request(h, { topic: 'u', deliverAtMs: t0 + 1000 + (i % 5) * 100 }));
      }
      h.service.schedule(requests);
      // Pages of 4; the second pass looks at only 3 schedules (of either topic) per call, so
      // some pages end short, some empty, each with a cursor to go on from.
      for (const scanMax of [undefined, 3]) {
        const seen: number[] = [];
        let after = null;
        let shortPages = 0;
        for (let page = 0; page < 100; page++) {
          const { views, stoppedAt } = h.service.list('t', t0 + 1100, t0 + 1400, after, 4, scanMax);
          if (views.length < 4 && stoppedAt !== null) shortPages++;
          for (const item of views) seen.push(item.id);
          const last = views[views.length - 1];
          after = stoppedAt ?? (last === undefined || views.length < 4 ? null : { dueMs: last.nextFireMs, id: last.id });
          if (after === null) break;
        }
        if (scanMax === 3) assert.ok(shortPages > 0, 'the scan budget never ran out');
        // due t0+1100, 1200, 1300: 15 of the 25, ordered by (due, id)
        const expected = requests
          .map((r, id) => ({ id, r }))
          .filter(({ r }) => r.topic === 't' && r.deliverAtMs >= t0 + 1100 && r.deliverAtMs < t0 + 1400)
          .sort((a, b) => a.r.deliverAtMs - b.r.deliverAtMs || a.id - b.id)
          .map(({ id }) => id);
        assert.equal(expected.length, 15);
        assert.deepEqual(seen, expected, `scanMax ${scanMax}`);
      }
      // 22 schedules of either topic lie in the window: a bound of exactly 22 ends the window, 21 does not.
      const inWindow = requests.filter((r) => r.deliverAtMs >= t0 + 1100 && r.deliverAtMs < t0 + 1400).length;
      assert.equal(inWindow, 22);
      assert.equal(h.service.list('t', t0 + 1100, t0 + 1400, null, 100, inWindow).stoppedAt, null);
      assert.notEqual(h.service.list('t', t0 + 1100, t0 + 1400, null, 100, inWindow - 1).stoppedAt, null);
    } finally {
      await h.close();
    }
  });
}

test('delay: more due than one round are handed over in rounds, in due order', async () => {
  const h = await harness('lmdb');
  try {
    const t0 = h.clock.now;
    const n = DISPATCH_BATCH_MAX * 2 + 10;
    const requests: ScheduleRequest[] = [];
    for (let i = 0; i < n; i++) requests.push(request(h, { deliverAtMs: t0 + n - i, value: Buffer.from(String(n - i)) }));
    h.service.schedule(requests);
    h.clock.now = t0 + n;
    assert.equal(h.service.runDue(), n);
    const got = h.delivered().map((r) => Number(r.value!.toString()));
    assert.deepEqual(got, [...got].sort((a, b) => a - b));
    assert.equal(got.length, n);
  } finally {
    await h.close();
  }
});

for (const failing of [false, true]) {
  test(`delay: timer dispatch of a backlog reads the next round's records ahead${failing ? ' (the read ahead failing: read on the event loop, logged once)' : ''}; every fire is its own record, once, in due order`, async () => {
    let prefetched = 0;
    let hits = 0; // records a round took from the read ahead
    const errors: string[] = [];
    const h = await harness('lmdb', {
      autoDispatch: true,
      onError: (_err, context) => errors.push(context),
      spyLog: (log) => {
        const real = log.prefetchPoints.bind(log);
        log.prefetchPoints = (offsets, slotBytes, slab) => {
          prefetched += offsets.length;
          if (failing) return Promise.reject(new Error('injected helper thread failure'));
          return real(offsets, slotBytes, slab).then((prefetch) => {
            const positionOf = prefetch.positionOf.bind(prefetch);
            prefetch.positionOf = (offset) => {
              const at = positionOf(offset);
              if (at >= 0) hits++;
              return at;
            };
            return prefetch;
          });
        };
      },
    });
    try {
      const t0 = h.clock.now;
      const n = 4 * DISPATCH_BATCH_MAX + 37;
      const requests: ScheduleRequest[] = [];
      const valueOf = new Map<number, Buffer>();
      for (let i = 0; i < n; i++) {
        // Due times scrambled against log order; every 50th value larger than a read-ahead slot (a miss).
        const due = (i * 7919) % n;
        const value = i % 50 === 0 ? Buffer.alloc(1500, due % 251) : Buffer.from(`due ${due}`);
        valueOf.set(due, value);
        requests.push(request(h, { deliverAtMs: t0 + 1000 + due, value, headers: [{ key: 'due', value: Buffer.from(String(due)) }] }));
      }
      const ids = h.service.schedule(requests).ids;
      const cancelled = new Set([3, 700, 1500].map((i) => (i * 7919) % n));
      for (const due of cancelled) await h.service.cancel(ids[requests.findIndex((r) => r.deliverAtMs === t0 + 1000 + due)]!);
      h.clock.now = t0 + 1000 + n; // all due: the next tick (at most IDLE_POLL_MS away) finds a backlog
      const expected = n - cancelled.size;
      const deadline = Date.now() + 20_000;
      while (h.delivered().length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 50)); // nothing more comes
      const got = h.delivered();
      assert.equal(got.length, expected);
      const dues = got.map((r) => Number(header(r, 'due')));
      assert.deepEqual(dues, [...dues].sort((a, b) => a - b), 'due order');
      for (const r of got) {
        const due = Number(header(r, 'due'));
        assert.ok(!cancelled.has(due), `cancelled ${due} was delivered`);
        assert.deepEqual(r.value, valueOf.get(due), `value of the fire due at +${due}`);
      }
      if (failing) assert.equal(prefetched, DISPATCH_BATCH_MAX, 'one read ahead tried, then none');
      else assert.ok(prefetched >= expected - DISPATCH_BATCH_MAX, `${prefetched} records read ahead of ${expected}`);
      // Only the 1,500-byte values (every 50th) are too large for a slot: nearly every fire took its record from there.
      if (!failing) assert.ok(hits >= expected - DISPATCH_BATCH_MAX - Math.ceil(n / 50), `${hits} of ${expected} records came from the read ahead`);
      else assert.equal(hits, 0);
      assert.deepEqual(errors, failing ? ['delay read ahead (dispatch reads on the event loop from now on)'] : []);
    } finally {
      await h.close();
    }
  });
}

for (const kind of ['memory', 'lmdb'] as const) {
  test(`delay (${kind}): trim drops __delay below the lowest pending id; a rebuild after it keeps what is pending`, async () => {
    const h = await harness(kind);
    try {
      const t0 = h.clock.now;
      const requests: ScheduleRequest[] = [];
      for (let i = 0; i < 200; i++) requests.push(request(h, { deliverAtMs: t0 + 100, value: Buffer.alloc(100, i) }));
      h.service.schedule(requests);
      const late = h.service.schedule([request(h, { deliverAtMs: t0 + 10_000, value: Buffer.from('late') })]).ids[0]!;
      const loop = h.service.schedule([request(h, { deliverAtMs: t0 + 100, value: Buffer.from('loop'), repeat: { intervalMs: 1000, multiplier: 1, maxIntervalMs: null, times: 3, untilMs: null } })]).ids[0]!;
      h.clock.now = t0 + 200;
      assert.equal(h.service.runDue(), 201);
      const log = h.lm.getOrCreate(DELAY_TOPIC, 0);
      const segmentsBefore = log.segmentCount();
      assert.equal(await h.service.trim(), late);
      assert.equal(log.logStartOffset, late);
      assert.ok(log.segmentCount() < segmentsBefore, 'whole segments below the start are deleted');
      await h.service.cancel(late);
      assert.equal(await h.service.trim(), loop); // the repeating one is still pending
      await h.reopen({ dropIndex: true });
      assert.equal(h.service.pendingCount, 1);
      h.clock.now = t0 + 5000;
      assert.equal(h.service.runDue() + h.service.runDue(), 2); // fires 2 and 3 of the loop, one per round
      assert.equal(h.service.get(loop)?.state, 'delivered');
      assert.equal(h.delivered().filter((r) => r.value?.toString() === 'loop').length, 3);
      assert.equal(await h.service.trim(), h.lm.getOrCreate(DELAY_TOPIC, 0).logEndOffset);
    } finally {
      await h.close();
    }
  });
}

test('delay: nextFireMs', () => {
  const repeat = { intervalMs: 1000, multiplier: 3, maxIntervalMs: 5000, times: 4, untilMs: null };
  assert.equal(nextFireMs({ nextFireMs: 0, repeat }, 1), 1000);
  assert.equal(nextFireMs({ nextFireMs: 1000, repeat }, 2), 4000);
  assert.equal(nextFireMs({ nextFireMs: 4000, repeat }, 3), 9000);
  assert.equal(nextFireMs({ nextFireMs: 9000, repeat }, 4), null);
  assert.equal(nextFireMs({ nextFireMs: 0, repeat: null }, 1), null);
});
