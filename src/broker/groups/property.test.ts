// Seeded random-operation test of the group coordinator: clients join (one-
// and two-step, dynamic and static, with clashing protocols), sync, heartbeat,
// leave, commit and get deleted while time jumps around. After every step the
// group invariants must hold; at the end, with time running and nobody
// talking, every parked request must be answered and every timer gone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from './clock.ts';
import { GroupCoordinator } from './coordinator.ts';
import { settle, track, type Tracked } from './test-harness.ts';
import type { GroupProtocol, GroupSnapshot, JoinResult, SyncResult } from './types.ts';

const SEED = Number(process.env['GROUPS_PROPERTY_SEED'] ?? 20261124);
const RUNS = Number(process.env['GROUPS_PROPERTY_RUNS'] ?? 300);

const GROUPS = ['g0', 'g1'] as const;
const CLIENTS = 7;
const MAX_GROUP_SIZE = 4;
const PROTOCOL_SETS: readonly (readonly string[])[] = [['range'], ['range', 'rr'], ['rr', 'range'], ['rr'], ['sticky', 'range']];
const SESSION_MS = [6_000, 10_000, 30_000] as const;
const REBALANCE_MS = [6_000, 20_000, 45_000] as const;
const ADVANCE_MS = [0, 0, 1, 1_000, 3_000, 6_000, 10_000, 30_000, 60_000] as const;

type Op =
  /** The client's natural next request (join, rejoin, sync or heartbeat), as a well-behaved consumer would send it. */
  | { t: 'step'; c: number; partial: boolean }
  /** A join with random parameters, possibly while another request of the client is parked. */
  | { t: 'join'; c: number; g: number; fresh: boolean; requireKnown: boolean; proto: number; connect: boolean; session: number; rebalance: number; skip: boolean }
  /** The client process restarts: a static member comes back with its instance id and no member id. */
  | { t: 'restart'; c: number; skip: boolean }
  /** The process that a restart replaced is still alive and heartbeats with its old member id. */
  | { t: 'zombie'; c: number }
  | { t: 'sync'; c: number; badGeneration: boolean }
  | { t: 'heartbeat'; c: number }
  | { t: 'leave'; c: number; byInstance: boolean }
  | { t: 'advance'; ms: number }
  | { t: 'delete'; g: number }
  | { t: 'commit'; c: number; simple: boolean }
  | { t: 'describe' };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const rarely = (oneIn: number) => fc.integer({ min: 0, max: oneIn - 1 }).map((n) => n === 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  // The leader leaves the last member out when `partial`: that member must get an empty assignment.
  { weight: 12, arbitrary: fc.record({ t: fc.constant('step' as const), c: client, partial: rarely(4) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('join' as const),
      c: client,
      g: fc.integer({ min: 0, max: GROUPS.length - 1 }),
      fresh: fc.boolean(),
      requireKnown: fc.boolean(),
      proto: fc.integer({ min: 0, max: PROTOCOL_SETS.length - 1 }),
      connect: rarely(20),
      session: fc.constantFrom(...SESSION_MS),
      rebalance: fc.constantFrom(...REBALANCE_MS),
      skip: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('restart' as const), c: client, skip: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('zombie' as const), c: client }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), c: client, badGeneration: rarely(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('heartbeat' as const), c: client }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('leave' as const), c: client, byInstance: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(...ADVANCE_MS) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), g: fc.integer({ min: 0, max: GROUPS.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('commit' as const), c: client, simple: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('describe' as const) }) },
);

interface ClientState {
  readonly instanceId: string | null;
  group: number;
  memberId: string;
  generation: number;
  /** Set when a join answer made this client leader: the members to assign, for that generation. */
  leading: { generation: number; members: string[] } | null;
  next: 'join' | 'sync' | 'heartbeat';
  /** The member id and generation this client had before its last restart. */
  zombie: { memberId: string; generation: number } | null;
  /** Requests sent and not answered yet. */
  outstanding: number;
  proto: number;
  session: number;
  rebalance: number;
  requireKnown: boolean;
  skip: boolean;
  connect: boolean;
}

function protocolsFor(index: number, c: number): GroupProtocol[] {
  return PROTOCOL_SETS[index]!.map((name) => ({ name, metadata: Buffer.from(`${name}:${c}`) }));
}

function checkGroup(s: GroupSnapshot, lastGeneration: Map<string, number>): void {
  const ctx = `${s.groupId} (${s.state}, gen ${s.generationId})`;
  const ids = s.members.map((m) => m.memberId);
  const last = lastGeneration.get(s.groupId);
  if (last !== undefined) assert.ok(s.generationId >= last, `${ctx}: generation went back from ${last}`);
  lastGeneration.set(s.groupId, s.generationId);

  assert.ok(s.members.length <= 2 * MAX_GROUP_SIZE, `${ctx}: ${s.members.length} members`);
  // A known static instance always gets back in; dynamic members only while fewer than the maximum are parked.
  const awaiting = s.members.filter((m) => m.awaitingJoin && m.groupInstanceId === null).length;
  assert.ok(awaiting <= MAX_GROUP_SIZE, `${ctx}: ${awaiting} dynamic members parked in JoinGroup`);
  if (s.state !== 'PreparingRebalance') {
    // After a join phase only members that rejoined (at most the maximum) and absent static members remain.
    const dynamic = s.members.filter((m) => m.groupInstanceId === null).length;
    assert.ok(dynamic <= MAX_GROUP_SIZE, `${ctx}: ${dynamic} dynamic members`);
  }
  assert.ok(s.pendingMemberIds.length <= MAX_GROUP_SIZE, `${ctx}: ${s.pendingMemberIds.length} pending ids`);
  assert.equal(new Set(ids).size, ids.length, `${ctx}: duplicate member ids`);
  if (s.members.length === 0) assert.equal(s.leaderId, null, `${ctx}: leader without members`);
  else assert.ok(s.leaderId !== null && ids.includes(s.leaderId), `${ctx}: leader ${s.leaderId} is not a member`);

  for (const { groupInstanceId, memberId } of s.staticMembers) {
    assert.equal(s.members.find((m) => m.memberId === memberId)?.groupInstanceId, groupInstanceId, `${ctx}: static map`);
  }
  for (const m of s.members) {
    if (m.groupInstanceId !== null) {
      assert.equal(s.staticMembers.find((x) => x.groupInstanceId === m.groupInstanceId)?.memberId, m.memberId, `${ctx}: unmapped static member`);
    }
    if (m.awaitingJoin) assert.equal(s.state, 'PreparingRebalance', `${ctx}: ${m.memberId} parked in JoinGroup`);
    if (m.awaitingSync) assert.equal(s.state, 'CompletingRebalance', `${ctx}: ${m.memberId} parked in SyncGroup`);
  }
  for (const id of s.pendingSyncMemberIds) assert.ok(ids.includes(id), `${ctx}: pending sync ${id} is not a member`);
  if (s.pendingSyncMemberIds.length > 0) assert.ok(s.state === 'CompletingRebalance' || s.state === 'Stable', `${ctx}: pending syncs`);

  switch (s.state) {
    case 'Empty':
      assert.equal(s.members.length, 0, `${ctx}: members in an Empty group`);
      assert.equal(s.protocolName, null, `${ctx}: protocol in an Empty group`);
      break;
    case 'Stable':
    case 'CompletingRebalance':
      if (s.state === 'Stable') {
        for (const m of s.members) assert.notEqual(m.assignment, null, `${ctx}: ${m.memberId} has no assignment`);
      }
      assert.ok(s.members.length > 0, `${ctx}: no members`);
      assert.ok(s.protocolName !== null, `${ctx}: no protocol`);
      for (const m of s.members) {
        assert.ok(m.protocols.some((p) => p.name === s.protocolName), `${ctx}: ${m.memberId} does not support ${s.protocolName}`);
      }
      break;
    case 'PreparingRebalance':
      break;
    case 'Dead':
      assert.fail(`${ctx}: a Dead group is still held`);
  }
}

async function runScenario(ops: readonly Op[], initialRebalanceDelayMs: number, seen: Set<string>): Promise<void> {
  const clock = new ManualClock(0);
  let ids = 0;
  const gc = new GroupCoordinator({
    clock,
    initialRebalanceDelayMs,
    maxGroupSize: MAX_GROUP_SIZE,
    maxGroups: 10,
    newMemberJoinTimeoutMs: 60_000,
    randomId: () => `r${++ids}`,
  });
  const clients: ClientState[] = Array.from({ length: CLIENTS }, (_, c) => ({
    instanceId: c % 3 === 0 ? `inst-${c}` : null,
    group: c % GROUPS.length,
    memberId: '',
    generation: -1,
    leading: null,
    next: 'join',
    zombie: null,
    outstanding: 0,
    // Mostly compatible protocol lists; the random joins bring clashes.
    proto: c === CLIENTS - 1 ? 4 : 1 + (c % 2),
    session: c % 2 === 0 ? 10_000 : 30_000,
    rebalance: 20_000,
    requireKnown: c % 2 === 0,
    skip: c % 2 === 1,
    connect: false,
  }));
  const parked: (Tracked<JoinResult> | Tracked<SyncResult>)[] = [];
  // group/generation → the protocol every NONE answer of that generation must name.
  const protocolOf = new Map<string, string>();
  // group/generation → the assignment each member must get ('' when the leader left it out).
  const assigned = new Map<string, Map<string, string>>();
  const lastGeneration = new Map<string, number>();
  // A deleted group that comes back starts again at generation 0: keys carry the incarnation.
  const incarnation = new Map<string, number>();
  const absent = new Set<string>(GROUPS);
  const genKey = (groupId: string, generation: number) => `${groupId}#${incarnation.get(groupId) ?? 0}/${generation}`;
  // Assertions in promise callbacks land here and are rethrown by the scenario.
  const failures: unknown[] = [];
  const guard = <T>(fn: (v: T) => void) => (v: T) => {
    try {
      fn(v);
    } catch (err) {
      failures.push(err);
    }
  };

  const checkAll = (): void => {
    if (failures.length > 0) throw failures[0];
    let bound = 0;
    const present = new Set(gc.groupIds());
    for (const g of lastGeneration.keys()) if (!present.has(g)) lastGeneration.delete(g);
    for (const g of GROUPS) {
      if (!present.has(g)) absent.add(g);
      else if (absent.delete(g)) incarnation.set(g, (incarnation.get(g) ?? 0) + 1);
    }
    for (const groupId of present) {
      const s = gc.groupState(groupId)!;
      checkGroup(s, lastGeneration);
      seen.add(`state:${s.state}`);
      bound += 1 + s.members.length + s.pendingMemberIds.length;
    }
    assert.ok(clock.pendingTimers <= bound, `${clock.pendingTimers} timers for a bound of ${bound}`);
  };

  const lost = (st: ClientState, code: string): void => {
    if (code === 'UNKNOWN_MEMBER_ID' || code === 'FENCED_INSTANCE_ID') st.memberId = '';
    st.next = 'join';
  };

  const onJoin = (c: number, groupId: string, sentMemberId: string, r: JoinResult): void => {
    const st = clients[c]!;
    st.outstanding--;
    seen.add(`join:${r.errorCode}`);
    if (r.errorCode === 'NONE') {
      assert.ok(r.generationId >= 1, 'a NONE join names a generation');
      assert.notEqual(r.memberId, '');
      assert.notEqual(r.leader, '');
      assert.ok(r.protocolName !== null);
      if (sentMemberId === '' && st.instanceId !== null) seen.add('static-rejoin-answered-at-once');
      if (r.skipAssignment) seen.add('skip-assignment');
      const key = genKey(groupId, r.generationId);
      const known = protocolOf.get(key);
      if (known === undefined) protocolOf.set(key, r.protocolName);
      else assert.equal(r.protocolName, known, `${key}: two protocols in one generation`);
      if (r.members.length > 0) {
        assert.equal(r.leader, r.memberId, 'only the leader gets the members');
        const memberIds = r.members.map((m) => m.memberId);
        assert.ok(memberIds.includes(r.memberId), 'the leader is among the members it assigns');
        assert.equal(new Set(memberIds).size, memberIds.length);
        for (const m of r.members) assert.ok(m.metadata.toString().startsWith(`${r.protocolName}:`), 'metadata of the chosen protocol');
        st.leading = { generation: r.generationId, members: memberIds };
      } else {
        assert.equal(r.skipAssignment, false, 'skipAssignment only with the member list');
      }
      st.memberId = r.memberId;
      st.generation = r.generationId;
      st.next = 'sync';
    } else if (r.errorCode === 'MEMBER_ID_REQUIRED') {
      assert.notEqual(r.memberId, '');
      st.memberId = r.memberId;
      st.next = 'join';
    } else {
      if (r.errorCode === 'GROUP_MAX_SIZE_REACHED') st.memberId = '';
      lost(st, r.errorCode);
    }
  };

  const join = (c: number, memberId: string): void => {
    const st = clients[c]!;
    const groupId = GROUPS[st.group]!;
    st.outstanding++;
    const j = track(
      gc.join({
        groupId,
        memberId,
        groupInstanceId: st.instanceId,
        clientId: `c${c}`,
        clientHost: `/10.0.0.${c}`,
        sessionTimeoutMs: st.session,
        rebalanceTimeoutMs: st.rebalance,
        protocolType: st.connect ? 'connect' : 'consumer',
        protocols: protocolsFor(st.proto, c),
        requireKnownMemberId: st.requireKnown,
        supportsSkipAssignment: st.skip,
      }),
    );
    void j.promise.then(guard((r: JoinResult) => onJoin(c, groupId, memberId, r)));
    parked.push(j);
  };

  const sync = (c: number, generation: number, partial: boolean): void => {
    const st = clients[c]!;
    const groupId = GROUPS[st.group]!;
    const key = genKey(groupId, generation);
    const leading = st.leading !== null && st.leading.generation === generation ? st.leading : null;
    const targets = leading === null ? [] : partial ? leading.members.slice(0, -1) : leading.members;
    const assignments = targets.map((memberId) => ({ memberId, assignment: Buffer.from(`${memberId}@${generation}`) }));
    const now = gc.groupState(groupId);
    if (leading !== null && now?.state === 'CompletingRebalance' && now.generationId === generation && now.leaderId === st.memberId) {
      // This SyncGroup sets the generation's assignment.
      const expected = new Map<string, string>(leading.members.map((id) => [id, '']));
      for (const a of assignments) expected.set(a.memberId, a.assignment.toString());
      assigned.set(key, expected);
      seen.add(targets.length < leading.members.length ? 'leader-sync-partial' : 'leader-sync');
    }
    const memberId = st.memberId;
    st.outstanding++;
    const t = track(
      gc.sync({ groupId, generationId: generation, memberId, groupInstanceId: st.instanceId, protocolType: null, protocolName: null, assignments }),
    );
    void t.promise.then(
      guard((r: SyncResult) => {
      st.outstanding--;
      seen.add(`sync:${r.errorCode}`);
      if (r.errorCode !== 'NONE') return lost(st, r.errorCode);
      st.next = 'heartbeat';
      assert.equal(r.protocolName, protocolOf.get(key) ?? r.protocolName, `${key}: sync names another protocol`);
      const expected = assigned.get(key)?.get(memberId);
      if (expected !== undefined) assert.equal(r.assignment.toString(), expected, `${key}: ${memberId} got the wrong assignment`);
      }),
    );
    parked.push(t);
  };

  const heartbeat = (c: number): void => {
    const st = clients[c]!;
    const r = gc.heartbeat({ groupId: GROUPS[st.group]!, generationId: st.generation, memberId: st.memberId, groupInstanceId: st.instanceId });
    seen.add(`heartbeat:${r.errorCode}`);
    if (r.errorCode !== 'NONE') lost(st, r.errorCode);
  };

  for (const op of ops) {
    switch (op.t) {
      case 'step': {
        const st = clients[op.c]!;
        if (st.outstanding > 0) break;
        if (st.next === 'join') join(op.c, st.memberId);
        else if (st.next === 'sync') sync(op.c, st.generation, op.partial);
        else heartbeat(op.c);
        break;
      }
      case 'join': {
        const st = clients[op.c]!;
        if (op.fresh) {
          st.group = op.g;
          st.memberId = '';
        }
        Object.assign(st, { requireKnown: op.requireKnown, proto: op.proto, connect: op.connect, session: op.session, rebalance: op.rebalance, skip: op.skip });
        join(op.c, st.memberId);
        break;
      }
      case 'restart': {
        const st = clients[op.c]!;
        if (st.memberId !== '') st.zombie = { memberId: st.memberId, generation: st.generation };
        st.memberId = '';
        st.leading = null;
        st.skip = op.skip;
        join(op.c, '');
        break;
      }
      case 'zombie': {
        const st = clients[op.c]!;
        if (st.zombie === null || st.instanceId === null) break;
        const groupId = GROUPS[st.group]!;
        const before = gc.groupState(groupId);
        const r = gc.heartbeat({ groupId, memberId: st.zombie.memberId, generationId: st.zombie.generation, groupInstanceId: st.instanceId });
        const mapped = before?.staticMembers.find((x) => x.groupInstanceId === st.instanceId)?.memberId;
        if (mapped !== undefined && mapped !== st.zombie.memberId) {
          assert.equal(r.errorCode, 'FENCED_INSTANCE_ID', 'a replaced static member id must be fenced');
          seen.add('zombie-fenced');
        } else if (mapped === undefined) {
          assert.equal(r.errorCode, 'UNKNOWN_MEMBER_ID', 'an instance id the group does not know');
        }
        break;
      }
      case 'sync': {
        const st = clients[op.c]!;
        sync(op.c, op.badGeneration ? st.generation + 1 : st.generation, false);
        break;
      }
      case 'heartbeat':
        heartbeat(op.c);
        break;
      case 'leave': {
        const st = clients[op.c]!;
        const byInstance = op.byInstance && st.instanceId !== null;
        const r = gc.leave({
          groupId: GROUPS[st.group]!,
          members: [{ memberId: byInstance ? '' : st.memberId, groupInstanceId: st.instanceId }],
        });
        assert.equal(r.members.length, 1);
        seen.add(`leave:${r.members[0]!.errorCode}`);
        if (r.members[0]!.errorCode === 'NONE') {
          st.memberId = '';
          st.next = 'join';
        }
        break;
      }
      case 'advance':
        clock.advance(op.ms);
        break;
      case 'delete': {
        const groupId = GROUPS[op.g]!;
        const before = gc.groupState(groupId);
        const [r] = await gc.deleteGroups([groupId]);
        const expected = before === undefined ? 'GROUP_ID_NOT_FOUND' : before.state === 'Empty' ? 'NONE' : 'NON_EMPTY_GROUP';
        assert.equal(r!.errorCode, expected);
        seen.add(`delete:${expected}`);
        if (expected === 'NONE') assert.equal(gc.groupState(groupId), undefined);
        break;
      }
      case 'commit': {
        const st = clients[op.c]!;
        const groupId = GROUPS[st.group]!;
        const before = gc.groupState(groupId);
        if (op.simple) {
          const r = gc.validateOffsetCommit({ groupId, memberId: '', generationId: -1, groupInstanceId: null });
          assert.equal(r, before === undefined || before.state === 'Empty' ? 'NONE' : 'UNKNOWN_MEMBER_ID', 'simple commit');
          assert.ok(gc.groupState(groupId) !== undefined, 'a simple commit leaves the group known');
        } else if (st.memberId !== '' && st.generation >= 0) {
          const r = gc.validateOffsetCommit({ groupId, memberId: st.memberId, generationId: st.generation, groupInstanceId: st.instanceId });
          // Kafka's rules, restated as an oracle.
          let expected: string;
          const mapped = st.instanceId === null ? undefined : before?.staticMembers.find((x) => x.groupInstanceId === st.instanceId)?.memberId;
          if (before === undefined) expected = 'ILLEGAL_GENERATION';
          else if (st.instanceId !== null && mapped === undefined) expected = 'UNKNOWN_MEMBER_ID';
          else if (st.instanceId !== null && mapped !== st.memberId) expected = 'FENCED_INSTANCE_ID';
          else if (!before.members.some((m) => m.memberId === st.memberId)) expected = 'UNKNOWN_MEMBER_ID';
          else if (before.generationId !== st.generation) expected = 'ILLEGAL_GENERATION';
          else if (before.state === 'CompletingRebalance') expected = 'REBALANCE_IN_PROGRESS';
          else expected = 'NONE';
          assert.equal(r, expected, `commit by ${st.memberId} gen ${st.generation} to ${before?.state ?? 'no group'}`);
          seen.add(`commit:${r}`);
        }
        break;
      }
      case 'describe': {
        const listed = gc.listGroups().groups.map((g) => g.groupId);
        assert.deepEqual(listed, gc.groupIds());
        for (const d of gc.describeGroups([...GROUPS])) {
          const s = gc.groupState(d.groupId);
          if (s === undefined) {
            assert.equal(d.errorCode, 'GROUP_ID_NOT_FOUND');
            continue;
          }
          assert.equal(d.groupState, s.state);
          assert.deepEqual(d.members.map((m) => m.memberId), s.members.map((m) => m.memberId));
          if (s.state === 'Stable') assert.equal(d.protocolData, s.protocolName);
        }
        break;
      }
    }
    await settle();
    checkAll();
  }

  // Nobody talks any more: every parked request must be answered, every member
  // must time out, every timer must go.
  for (let i = 0; i < 20; i++) {
    clock.advance(120_000);
    await settle();
    checkAll();
  }
  assert.ok(parked.every((p) => p.done), 'a JoinGroup or SyncGroup is still parked');
  for (const groupId of gc.groupIds()) {
    const s = gc.groupState(groupId)!;
    assert.equal(s.state, 'Empty', `${groupId} still has members`);
    assert.deepEqual(s.pendingMemberIds, []);
  }
  assert.equal(clock.pendingTimers, 0, 'timers left with no member and no rebalance');
  gc.close();
  assert.equal(clock.pendingTimers, 0);
}

test(`random operations keep the group invariants (seed ${SEED}, ${RUNS} runs)`, async () => {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 200, size: 'max' }), fc.constantFrom(0, 3_000), async (ops, delay) => {
      await runScenario(ops, delay, seen);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  // A generator that never reaches these would prove little (checked for the
  // committed seed; another seed may miss a rare one).
  if (process.env['GROUPS_PROPERTY_SEED'] !== undefined) return;
  for (const expected of [
    'state:PreparingRebalance',
    'state:CompletingRebalance',
    'state:Stable',
    'state:Empty',
    'join:NONE',
    'join:MEMBER_ID_REQUIRED',
    'join:INCONSISTENT_GROUP_PROTOCOL',
    'join:FENCED_INSTANCE_ID',
    'join:REBALANCE_IN_PROGRESS',
    'static-rejoin-answered-at-once',
    'skip-assignment',
    'leader-sync',
    'leader-sync-partial',
    'sync:NONE',
    'sync:REBALANCE_IN_PROGRESS',
    'sync:ILLEGAL_GENERATION',
    'heartbeat:NONE',
    'heartbeat:REBALANCE_IN_PROGRESS',
    'heartbeat:UNKNOWN_MEMBER_ID',
    'leave:NONE',
    'zombie-fenced',
    'delete:NONE',
    'delete:NON_EMPTY_GROUP',
    'commit:NONE',
    'commit:REBALANCE_IN_PROGRESS',
  ]) {
    assert.ok(seen.has(expected), `the random scenarios never produced ${expected}`);
  }
});
