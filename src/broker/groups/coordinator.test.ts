import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCoordinator } from './coordinator.ts';
import { ManualClock } from './clock.ts';
import { Harness, meta, protocols, settle } from './test-harness.ts';

describe('ManualClock', () => {
  test('fires due timers in deadline order, skips cleared ones, and runs timers set while firing', () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@30'), 30);
    const cleared = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => {
      fired.push('a@20');
      clock.setTimeout(() => fired.push(`nested@${clock.nowMs()}`), 5);
    }, 20);
    clock.setTimeout(() => fired.push('late@50'), 50);
    clock.clearTimeout(cleared);
    clock.advance(30);
    assert.deepEqual(fired, ['a@20', 'nested@125', 'b@30']);
    assert.equal(clock.nowMs(), 130);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(19);
    assert.equal(fired.length, 3);
    clock.advance(1);
    assert.deepEqual(fired.at(-1), 'late@50');
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('JoinGroup', () => {
  test('v4+ two-step join: MEMBER_ID_REQUIRED hands out an id, the rejoin with it completes the first generation', async () => {
    const h = new Harness();
    const first = await h.gc.join(h.joinRequest({ clientId: 'cli' }));
    assert.equal(first.errorCode, 'MEMBER_ID_REQUIRED');
    assert.equal(first.memberId, 'cli-r1');
    assert.equal(first.generationId, -1);
    assert.deepEqual(h.gc.groupState('g')?.pendingMemberIds, ['cli-r1']);
    assert.equal(h.gc.groupState('g')?.members.length, 0);

    const second = h.join({ memberId: first.memberId, clientId: 'cli' });
    await settle();
    assert.equal(second.done, false, 'parked until the (zero) initial delay fires');
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    await h.tick(0);
    const r = second.value;
    assert.equal(r.errorCode, 'NONE');
    assert.equal(r.memberId, 'cli-r1');
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, 'cli-r1');
    assert.equal(r.protocolType, 'consumer');
    assert.equal(r.protocolName, 'range');
    assert.deepEqual(r.members, [{ memberId: 'cli-r1', groupInstanceId: null, metadata: meta('range-meta') }]);
    assert.equal(h.gc.groupState('g')?.state, 'CompletingRebalance');
    assert.deepEqual(h.gc.groupState('g')?.pendingMemberIds, []);
  });

  test('an old client (requireKnownMemberId false) joins in one step', async () => {
    const h = new Harness();
    const j = h.join({ requireKnownMemberId: false, clientId: 'old' });
    await h.tick(0);
    assert.equal(j.value.errorCode, 'NONE');
    assert.equal(j.value.memberId, 'old-r1');
    assert.equal(j.value.generationId, 1);
  });

  test('a pending member id that is not used within the session timeout expires; the unused group is dropped', async () => {
    const h = new Harness();
    const first = await h.gc.join(h.joinRequest({ sessionTimeoutMs: 8_000 }));
    assert.equal(first.errorCode, 'MEMBER_ID_REQUIRED');
    await h.tick(7_999);
    assert.deepEqual(h.gc.groupState('g')?.pendingMemberIds, [first.memberId]);
    await h.tick(1);
    assert.equal(h.gc.groupState('g'), undefined);
    assert.equal(h.clock.pendingTimers, 0);
    const late = await h.gc.join(h.joinRequest({ memberId: first.memberId }));
    assert.equal(late.errorCode, 'UNKNOWN_MEMBER_ID');
  });

  test('a pending member holds back the join phase of a running group until it joins', async () => {
    const h = new Harness();
    const { ids, generation } = await h.stableGroup(1);
    const first = await h.gc.join(h.joinRequest({ clientId: 'late' }));
    assert.equal(first.errorCode, 'MEMBER_ID_REQUIRED');
    const leaderRejoin = h.join({ memberId: ids[0]! });
    await settle();
    assert.equal(leaderRejoin.done, false, 'the pending id is still expected');
    const lateJoin = h.join({ memberId: first.memberId, clientId: 'late' });
    await settle();
    assert.equal(leaderRejoin.value.generationId, generation + 1);
    assert.deepEqual(
      leaderRejoin.value.members.map((m) => m.memberId),
      [ids[0], first.memberId],
    );
    assert.equal(lateJoin.value.errorCode, 'NONE');
  });

  test('the initial rebalance delay waits for more members and is extended while they keep coming', async () => {
    const h = new Harness({ initialRebalanceDelayMs: 3_000 });
    const a = await h.joinNew({ clientId: 'a', rebalanceTimeoutMs: 10_000 });
    await h.tick(2_000);
    const b = await h.joinNew({ clientId: 'b', rebalanceTimeoutMs: 10_000 });
    await h.tick(1_000); // 3 000: first delay over, a member arrived meanwhile: extend by 3 000
    assert.equal(a.done, false);
    await h.tick(2_999);
    assert.equal(a.done, false);
    assert.equal(b.done, false);
    await h.tick(1);
    assert.equal(a.value.generationId, 1);
    assert.equal(b.value.generationId, 1);
    assert.equal(a.value.members.length, 2);
  });

  test('session timeout outside the configured range is INVALID_SESSION_TIMEOUT', async () => {
    const h = new Harness({ minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 60_000 });
    assert.equal((await h.gc.join(h.joinRequest({ sessionTimeoutMs: 5_999 }))).errorCode, 'INVALID_SESSION_TIMEOUT');
    assert.equal((await h.gc.join(h.joinRequest({ sessionTimeoutMs: 60_001 }))).errorCode, 'INVALID_SESSION_TIMEOUT');
    assert.equal((await h.gc.join(h.joinRequest({ sessionTimeoutMs: 6_000 }))).errorCode, 'MEMBER_ID_REQUIRED');
    assert.equal((await h.gc.join(h.joinRequest({ sessionTimeoutMs: 60_000 }))).errorCode, 'MEMBER_ID_REQUIRED');
  });

  test('empty group id, unknown member id and unknown group', async () => {
    const h = new Harness();
    assert.equal((await h.gc.join(h.joinRequest({ groupId: '' }))).errorCode, 'INVALID_GROUP_ID');
    const r = await h.gc.join(h.joinRequest({ groupId: 'nope', memberId: 'ghost' }));
    assert.equal(r.errorCode, 'UNKNOWN_MEMBER_ID');
    assert.equal(r.memberId, 'ghost');
    assert.equal(h.gc.groupState('nope'), undefined, 'a known-member join does not create a group');
    await h.stableGroup(1);
    assert.equal((await h.gc.join(h.joinRequest({ memberId: 'ghost' }))).errorCode, 'UNKNOWN_MEMBER_ID');
  });

  test('JoinGroup v0 (rebalance timeout -1) uses the session timeout as rebalance timeout', async () => {
    const h = new Harness();
    const j = h.join({ requireKnownMemberId: false, rebalanceTimeoutMs: -1, sessionTimeoutMs: 7_000 });
    await h.tick(0);
    const member = h.gc.groupState('g')!.members[0]!;
    assert.equal(j.value.errorCode, 'NONE');
    assert.equal(member.rebalanceTimeoutMs, 7_000);
  });

  test('three members join, one leaves: the others rejoin into generation+1 and the leader gets the new membership', async () => {
    const h = new Harness();
    const { ids, leader, generation } = await h.stableGroup(3);
    assert.equal(leader, ids[0]);
    assert.equal(generation, 1);

    const left = h.gc.leave({ groupId: 'g', members: [{ memberId: ids[2]!, groupInstanceId: null }] });
    assert.deepEqual(left, { errorCode: 'NONE', members: [{ memberId: ids[2], groupInstanceId: null, errorCode: 'NONE' }] });
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[0]!, generationId: 1, groupInstanceId: null }).errorCode, 'REBALANCE_IN_PROGRESS');

    const j0 = h.join({ memberId: ids[0]! });
    await settle();
    assert.equal(j0.done, false, 'waits for the other remaining member');
    const j1 = h.join({ memberId: ids[1]! });
    await settle();
    assert.equal(j0.value.generationId, 2);
    assert.equal(j1.value.generationId, 2);
    assert.equal(j0.value.leader, ids[0]);
    assert.deepEqual(j0.value.members.map((m) => m.memberId), [ids[0], ids[1]]);
    assert.deepEqual(j1.value.members, [], 'followers do not get the member list');
    assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[2]!, generationId: 2, groupInstanceId: null }).errorCode, 'UNKNOWN_MEMBER_ID');
  });

  test('when the leader leaves, a remaining member that rejoins becomes leader', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2);
    h.gc.leave({ groupId: 'g', members: [{ memberId: ids[0]!, groupInstanceId: null }] });
    const j = h.join({ memberId: ids[1]! });
    await settle();
    assert.equal(j.value.leader, ids[1]);
    assert.deepEqual(j.value.members.map((m) => m.memberId), [ids[1]]);
  });

  test('a member that does not rejoin within the rebalance timeout is removed when the join phase ends', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(3, () => ({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000 }));
    const j0 = h.join({ memberId: ids[0]!, rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000 }); // leader rejoin: rebalance
    const j1 = h.join({ memberId: ids[1]!, rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000 });
    for (let t = 0; t < 3; t++) {
      await h.tick(6_000); // the straggler stays alive by heartbeating but never rejoins
      assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[2]!, generationId: 1, groupInstanceId: null }).errorCode, 'REBALANCE_IN_PROGRESS');
    }
    assert.equal(j0.done, false);
    await h.tick(1_999);
    assert.equal(j0.done, false);
    await h.tick(1);
    assert.equal(j0.value.generationId, 2);
    assert.deepEqual(j0.value.members.map((m) => m.memberId), [ids[0], ids[1]]);
    assert.equal(j1.value.errorCode, 'NONE');
    assert.deepEqual(h.gc.groupState('g')?.members.map((m) => m.memberId), [ids[0], ids[1]]);
    assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[2]!, generationId: 1, groupInstanceId: null }).errorCode, 'UNKNOWN_MEMBER_ID');
  });

  test('protocol choice by votes among protocols every member supports', async () => {
    const h = new Harness();
    const a = await h.joinNew({ protocols: protocols('range', 'roundrobin', 'sticky') });
    const b = await h.joinNew({ protocols: protocols('roundrobin', 'range') });
    const c = await h.joinNew({ protocols: protocols('sticky', 'roundrobin', 'range') });
    await h.tick(0);
    // sticky is not supported by b; the votes are range (a), roundrobin (b), roundrobin (c).
    for (const j of [a, b, c]) assert.equal(j.value.protocolName, 'roundrobin');
    assert.deepEqual(
      a.value.members.map((m) => m.metadata.toString()),
      ['roundrobin-meta', 'roundrobin-meta', 'roundrobin-meta'],
    );
  });

  test('INCONSISTENT_GROUP_PROTOCOL: no common protocol, another protocol type, or nothing offered', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2, () => ({ protocols: protocols('range', 'sticky') }));
    const none = await h.gc.join(h.joinRequest({ protocols: protocols('roundrobin') }));
    assert.equal(none.errorCode, 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal(none.memberId, '');
    assert.equal((await h.gc.join(h.joinRequest({ protocolType: 'connect', protocols: protocols('range') }))).errorCode, 'INCONSISTENT_GROUP_PROTOCOL');
    const existing = await h.gc.join(h.joinRequest({ memberId: ids[1]!, protocols: protocols('roundrobin') }));
    assert.equal(existing.errorCode, 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal(existing.memberId, ids[1]);
    assert.equal(h.gc.groupState('g')?.state, 'Stable', 'a rejected join changes nothing');
    // Sharing one protocol is enough.
    assert.equal((await h.gc.join(h.joinRequest({ protocols: protocols('roundrobin', 'sticky') }))).errorCode, 'MEMBER_ID_REQUIRED');
    // An empty group needs a protocol type and at least one protocol.
    assert.equal((await h.gc.join(h.joinRequest({ groupId: 'e', protocols: [] }))).errorCode, 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal((await h.gc.join(h.joinRequest({ groupId: 'e', protocolType: '' }))).errorCode, 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal(h.gc.groupState('e'), undefined, 'rejected first joins leave no group behind');
  });

  test('a follower rejoining a Stable group unchanged gets the current generation; the leader rejoining starts a rebalance', async () => {
    const h = new Harness();
    const { ids, generation } = await h.stableGroup(2);
    const follower = await h.gc.join(h.joinRequest({ memberId: ids[1]! }));
    assert.equal(follower.errorCode, 'NONE');
    assert.equal(follower.generationId, generation);
    assert.equal(follower.leader, ids[0]);
    assert.deepEqual(follower.members, []);
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    const leader = h.join({ memberId: ids[0]! });
    await settle();
    assert.equal(leader.done, false);
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
  });

  test('GROUP_MAX_SIZE_REACHED beyond maxGroupSize; pending ids are capped too', async () => {
    const h = new Harness({ maxGroupSize: 2 });
    await h.stableGroup(2);
    const r = await h.gc.join(h.joinRequest());
    assert.equal(r.errorCode, 'GROUP_MAX_SIZE_REACHED');
    assert.equal(r.memberId, '');
    const h2 = new Harness({ maxGroupSize: 2 });
    assert.equal((await h2.gc.join(h2.joinRequest())).errorCode, 'MEMBER_ID_REQUIRED');
    assert.equal((await h2.gc.join(h2.joinRequest())).errorCode, 'MEMBER_ID_REQUIRED');
    assert.equal((await h2.gc.join(h2.joinRequest())).errorCode, 'GROUP_MAX_SIZE_REACHED');
    assert.equal(h2.gc.groupState('g')?.pendingMemberIds.length, 2);
  });

  test('maxGroups: no group beyond the cap (COORDINATOR_NOT_AVAILABLE)', async () => {
    const h = new Harness({ maxGroups: 2 });
    await h.stableGroup(1, () => ({}), 'g1');
    await h.stableGroup(1, () => ({}), 'g2');
    assert.equal((await h.gc.join(h.joinRequest({ groupId: 'g3' }))).errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(h.gc.validateOffsetCommit({ groupId: 'g3', memberId: '', generationId: -1, groupInstanceId: null }), 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(h.gc.groupCount, 2);
  });

  test('a new member whose parked join outlives newMemberJoinTimeoutMs is removed', async () => {
    const h = new Harness({ newMemberJoinTimeoutMs: 50_000 });
    const { ids } = await h.stableGroup(2, () => ({ rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 30_000 }));
    const fresh = await h.joinNew({ rebalanceTimeoutMs: 300_000, sessionTimeoutMs: 30_000 });
    for (let t = 0; t < 2; t++) {
      await h.tick(25_000);
      for (const id of ids) h.gc.heartbeat({ groupId: 'g', memberId: id, generationId: 1, groupInstanceId: null });
    }
    assert.equal(fresh.value.errorCode, 'UNKNOWN_MEMBER_ID');
    assert.equal(h.gc.groupState('g')?.members.length, 2);
  });
});

describe('SyncGroup', () => {
  test('a follower that syncs before the leader waits, then gets its own assignment', async () => {
    const h = new Harness();
    const a = await h.joinNew();
    const b = await h.joinNew();
    const c = await h.joinNew();
    await h.tick(0);
    const [ra, rb, rc] = [a.value, b.value, c.value];
    assert.equal(ra.leader, ra.memberId);
    const sb = h.sync({ memberId: rb.memberId, generationId: 1 });
    await settle();
    assert.equal(sb.done, false);
    assert.equal(h.gc.groupState('g')?.members.find((m) => m.memberId === rb.memberId)?.awaitingSync, true);
    const sa = h.sync({
      memberId: ra.memberId,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      // c is left out: it gets an empty assignment; an unknown id is ignored.
      assignments: [
        { memberId: ra.memberId, assignment: meta('A') },
        { memberId: rb.memberId, assignment: meta('B') },
        { memberId: 'stranger', assignment: meta('X') },
      ],
    });
    await settle();
    assert.deepEqual(sb.value, { errorCode: 'NONE', protocolType: 'consumer', protocolName: 'range', assignment: meta('B') });
    assert.equal(sa.value.assignment.toString(), 'A');
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    const sc = h.sync({ memberId: rc.memberId, generationId: 1 });
    await settle();
    assert.equal(sc.value.errorCode, 'NONE');
    assert.equal(sc.value.assignment.length, 0);
  });

  test('errors: unknown group or member, wrong generation, protocol mismatch, rebalance in progress', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2);
    const err = async (over: Parameters<Harness['sync']>[0]) => {
      const s = h.sync(over);
      await settle();
      return s.value.errorCode;
    };
    assert.equal(await err({ groupId: 'other', memberId: ids[0]!, generationId: 1 }), 'UNKNOWN_MEMBER_ID');
    assert.equal(await err({ groupId: '', memberId: ids[0]!, generationId: 1 }), 'INVALID_GROUP_ID');
    assert.equal(await err({ memberId: 'ghost', generationId: 1 }), 'UNKNOWN_MEMBER_ID');
    assert.equal(await err({ memberId: ids[1]!, generationId: 7 }), 'ILLEGAL_GENERATION');
    assert.equal(await err({ memberId: ids[1]!, generationId: 1, protocolName: 'roundrobin' }), 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal(await err({ memberId: ids[1]!, generationId: 1, protocolType: 'connect' }), 'INCONSISTENT_GROUP_PROTOCOL');
    assert.equal(await err({ memberId: ids[1]!, generationId: 1, protocolType: 'consumer', protocolName: 'range' }), 'NONE');
    h.join({ memberId: ids[0]! }); // leader rejoin → PreparingRebalance
    assert.equal(await err({ memberId: ids[1]!, generationId: 1 }), 'REBALANCE_IN_PROGRESS');
  });

  test('a parked SyncGroup is answered REBALANCE_IN_PROGRESS when a new member joins before the leader synced', async () => {
    const h = new Harness();
    const a = await h.joinNew();
    const b = await h.joinNew();
    await h.tick(0);
    const sb = h.sync({ memberId: b.value.memberId, generationId: 1 });
    await settle();
    assert.equal(sb.done, false);
    await h.joinNew({ clientId: 'newcomer' });
    assert.equal(sb.value.errorCode, 'REBALANCE_IN_PROGRESS');
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    assert.equal(a.value.errorCode, 'NONE');
  });

  test('members that never send SyncGroup are removed after the rebalance timeout and the group rebalances', async () => {
    const h = new Harness();
    const a = await h.joinNew({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000 });
    const b = await h.joinNew({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000 });
    await h.tick(0);
    const leader = a.value.memberId;
    const lazy = b.value.memberId;
    const sa = h.sync({ memberId: leader, generationId: 1, assignments: [{ memberId: leader, assignment: meta('A') }] });
    await settle();
    assert.equal(sa.value.errorCode, 'NONE');
    const beat = () => {
      // Both stay alive; b just never sends its SyncGroup.
      for (const memberId of [leader, lazy]) h.gc.heartbeat({ groupId: 'g', memberId, generationId: 1, groupInstanceId: null });
    };
    beat();
    await h.tick(9_000);
    beat();
    await h.tick(9_000);
    beat();
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    assert.deepEqual(h.gc.groupState('g')?.pendingSyncMemberIds, [lazy]);
    await h.tick(1_999);
    assert.equal(h.gc.groupState('g')?.members.length, 2);
    await h.tick(1); // 20 000 after the join phase ended
    assert.deepEqual(h.gc.groupState('g')?.members.map((m) => m.memberId), [leader]);
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
  });

  test('no pending-sync expiry once every member synced', async () => {
    const h = new Harness();
    await h.stableGroup(2, () => ({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 }));
    assert.deepEqual(h.gc.groupState('g')?.pendingSyncMemberIds, []);
    assert.equal(h.clock.pendingTimers, 2, 'only the two session timers');
    await h.tick(25_000);
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    assert.equal(h.gc.groupState('g')?.members.length, 2);
  });
});

describe('Heartbeat and session expiry', () => {
  test('REBALANCE_IN_PROGRESS while preparing, NONE while completing and stable, errors otherwise', async () => {
    const h = new Harness();
    const a = await h.joinNew();
    const hb = (over: { memberId?: string; generationId?: number; groupId?: string; groupInstanceId?: string | null } = {}) =>
      h.gc.heartbeat({ groupId: 'g', memberId: a.value.memberId, generationId: 1, groupInstanceId: null, ...over }).errorCode;
    await h.tick(0);
    assert.equal(h.gc.groupState('g')?.state, 'CompletingRebalance');
    assert.equal(hb(), 'NONE');
    assert.equal(hb({ generationId: 0 }), 'ILLEGAL_GENERATION');
    assert.equal(hb({ memberId: 'ghost' }), 'UNKNOWN_MEMBER_ID');
    assert.equal(hb({ groupId: 'x' }), 'UNKNOWN_MEMBER_ID');
    assert.equal(hb({ groupId: '' }), 'INVALID_GROUP_ID');
    assert.equal(hb({ groupInstanceId: 'not-static' }), 'UNKNOWN_MEMBER_ID');
    h.sync({ memberId: a.value.memberId, generationId: 1 });
    await settle();
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    assert.equal(hb(), 'NONE');
    await h.joinNew({ clientId: 'b' });
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    assert.equal(hb(), 'REBALANCE_IN_PROGRESS');
  });

  test('a member that stops heartbeating is removed after its session timeout and the group rebalances', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2, () => ({ sessionTimeoutMs: 10_000 }));
    for (let t = 0; t < 3; t++) {
      await h.tick(3_000);
      assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[0]!, generationId: 1, groupInstanceId: null }).errorCode, 'NONE');
    }
    assert.equal(h.gc.groupState('g')?.members.length, 2);
    await h.tick(1_000); // 10 000 since ids[1]'s sync
    assert.deepEqual(h.gc.groupState('g')?.members.map((m) => m.memberId), [ids[0]]);
    assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: ids[0]!, generationId: 1, groupInstanceId: null }).errorCode, 'REBALANCE_IN_PROGRESS');
    const j = h.join({ memberId: ids[0]! });
    await settle();
    assert.equal(j.value.generationId, 2);
    assert.deepEqual(j.value.members.map((m) => m.memberId), [ids[0]]);
  });

  test('the last member expiring empties the group (generation+1, onGroupEmptied)', async () => {
    const h = new Harness();
    await h.stableGroup(1, () => ({ sessionTimeoutMs: 10_000 }));
    await h.tick(10_000);
    const s = h.gc.groupState('g')!;
    assert.equal(s.state, 'Empty');
    assert.equal(s.generationId, 2);
    assert.equal(s.protocolName, null);
    assert.equal(s.protocolType, 'consumer');
    assert.deepEqual(h.emptied, ['g']);
    assert.equal(h.clock.pendingTimers, 0);
  });
});

describe('Static membership (KIP-345)', () => {
  const staticOver = (i: number) => ({ groupInstanceId: `inst-${i}`, clientId: `c${i}` });

  test('a restarted static follower gets a new id and its old assignment without a rebalance; the old id is fenced', async () => {
    const h = new Harness();
    const { ids, generation } = await h.stableGroup(2, staticOver);
    const restarted = await h.gc.join(h.joinRequest({ groupInstanceId: 'inst-1', clientId: 'c1', clientHost: '/10.0.0.2' }));
    assert.equal(restarted.errorCode, 'NONE');
    assert.notEqual(restarted.memberId, ids[1]);
    assert.match(restarted.memberId, /^inst-1-/);
    assert.equal(restarted.generationId, generation);
    assert.equal(restarted.leader, ids[0]);
    assert.deepEqual(restarted.members, []);
    const state = h.gc.groupState('g')!;
    assert.equal(state.state, 'Stable');
    assert.equal(state.generationId, generation);

    const s = h.sync({ memberId: restarted.memberId, generationId: generation, groupInstanceId: 'inst-1' });
    await settle();
    assert.equal(s.value.assignment.toString(), `assign-${ids[1]}`);

    const old = { groupId: 'g', memberId: ids[1]!, generationId: generation };
    assert.equal(h.gc.heartbeat({ ...old, groupInstanceId: 'inst-1' }).errorCode, 'FENCED_INSTANCE_ID');
    assert.equal(h.gc.heartbeat({ ...old, groupInstanceId: null }).errorCode, 'UNKNOWN_MEMBER_ID');
    const oldSync = h.sync({ memberId: ids[1]!, generationId: generation, groupInstanceId: 'inst-1' });
    await settle();
    assert.equal(oldSync.value.errorCode, 'FENCED_INSTANCE_ID');
    assert.equal((await h.gc.join(h.joinRequest({ memberId: ids[1]!, groupInstanceId: 'inst-1' }))).errorCode, 'FENCED_INSTANCE_ID');
    assert.equal(h.gc.validateOffsetCommit({ groupId: 'g', memberId: ids[1]!, generationId: generation, groupInstanceId: 'inst-1' }), 'FENCED_INSTANCE_ID');
    assert.equal(h.gc.describeGroups(['g'])[0]!.members.find((m) => m.groupInstanceId === 'inst-1')?.clientHost, '/10.0.0.2');
  });

  test('a restarted static leader: KIP-814 skipAssignment with the member list, or the old leader id for older clients', async () => {
    const h = new Harness();
    const { ids, generation } = await h.stableGroup(2, staticOver);
    const v9 = await h.gc.join(h.joinRequest({ groupInstanceId: 'inst-0', clientId: 'c0', supportsSkipAssignment: true }));
    assert.equal(v9.errorCode, 'NONE');
    assert.equal(v9.leader, v9.memberId);
    assert.equal(v9.skipAssignment, true);
    assert.deepEqual(v9.members.map((m) => m.groupInstanceId), ['inst-1', 'inst-0']);
    assert.equal(v9.generationId, generation);

    const older = await h.gc.join(h.joinRequest({ groupInstanceId: 'inst-0', clientId: 'c0' }));
    assert.equal(older.errorCode, 'NONE');
    assert.equal(older.leader, v9.memberId, 'the leader id before this restart');
    assert.notEqual(older.leader, older.memberId);
    assert.equal(older.skipAssignment, false);
    assert.deepEqual(older.members, []);
    assert.equal(h.gc.groupState('g')?.state, 'Stable');
    assert.equal(h.gc.groupState('g')?.leaderId, older.memberId);
    assert.notEqual(ids[0], older.memberId);
  });

  test('a static restart that changes the chosen protocol triggers a rebalance', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2, (i) => ({ ...staticOver(i), protocols: protocols('range', 'roundrobin') }));
    const j = h.join({ groupInstanceId: 'inst-1', clientId: 'c1', protocols: protocols('roundrobin') });
    await settle();
    assert.equal(j.done, false);
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    const leader = h.join({ memberId: ids[0]!, groupInstanceId: 'inst-0', protocols: protocols('range', 'roundrobin') });
    await settle();
    assert.equal(j.value.protocolName, 'roundrobin');
    assert.equal(leader.value.generationId, 2);
  });

  test('a static member that does not rejoin is kept through the join phase; its session expiry removes it', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(2, (i) => ({ ...staticOver(i), rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 }));
    const j0 = h.join({ memberId: ids[0]!, groupInstanceId: 'inst-0', rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 30_000 });
    await h.tick(20_000);
    assert.equal(j0.value.generationId, 2);
    assert.deepEqual(j0.value.members.map((m) => m.groupInstanceId), ['inst-0', 'inst-1'], 'the absent static member stays');
    const leave = h.gc.leave({ groupId: 'g', members: [{ memberId: '', groupInstanceId: 'inst-1' }] });
    assert.equal(leave.members[0]!.errorCode, 'NONE', 'admin removal by instance id');
    assert.deepEqual(h.gc.groupState('g')?.members.map((m) => m.groupInstanceId), ['inst-0']);
  });

  test('a static member rejoining while the group completes a rebalance forces another one and fences its old parked sync', async () => {
    const h = new Harness();
    const a = await h.joinNew({ groupInstanceId: 'inst-0' });
    const b = await h.joinNew({ groupInstanceId: 'inst-1' });
    await h.tick(0);
    const oldSync = h.sync({ memberId: b.value.memberId, generationId: 1, groupInstanceId: 'inst-1' });
    await settle();
    assert.equal(oldSync.done, false);
    const again = h.join({ groupInstanceId: 'inst-1' });
    await settle();
    assert.equal(oldSync.value.errorCode, 'FENCED_INSTANCE_ID');
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    h.join({ memberId: a.value.memberId, groupInstanceId: 'inst-0' });
    await settle();
    assert.equal(again.value.generationId, 2);
  });
});

describe('LeaveGroup', () => {
  test('per-member results in a batch; fenced and unknown members; an unknown group', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(3, (i) => (i === 2 ? { groupInstanceId: 'inst-2' } : {}));
    const r = h.gc.leave({
      groupId: 'g',
      members: [
        { memberId: ids[0]!, groupInstanceId: null },
        { memberId: 'ghost', groupInstanceId: null },
        { memberId: ids[1]!, groupInstanceId: 'inst-2' },
        { memberId: '', groupInstanceId: 'no-such-instance' },
        { memberId: ids[0]!, groupInstanceId: null, reason: 'twice' },
      ],
    });
    assert.deepEqual(
      r.members.map((m) => m.errorCode),
      ['NONE', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'UNKNOWN_MEMBER_ID', 'UNKNOWN_MEMBER_ID'],
    );
    assert.deepEqual(h.gc.groupState('g')?.members.map((m) => m.memberId), [ids[1], ids[2]]);
    const unknown = h.gc.leave({ groupId: 'zzz', members: [{ memberId: 'm', groupInstanceId: null }] });
    assert.deepEqual(unknown, { errorCode: 'NONE', members: [{ memberId: 'm', groupInstanceId: null, errorCode: 'UNKNOWN_MEMBER_ID' }] });
    assert.equal(h.gc.leave({ groupId: '', members: [] }).errorCode, 'INVALID_GROUP_ID');
  });

  test('a member leaving while parked in JoinGroup gets UNKNOWN_MEMBER_ID for it; a pending id can leave', async () => {
    const h = new Harness({ initialRebalanceDelayMs: 3_000 });
    const a = await h.joinNew({ clientId: 'a' });
    const first = await h.gc.join(h.joinRequest({ clientId: 'p' }));
    assert.equal(first.errorCode, 'MEMBER_ID_REQUIRED');
    assert.deepEqual(h.gc.groupState('g')?.pendingMemberIds, [first.memberId]);
    assert.equal(h.gc.leave({ groupId: 'g', members: [{ memberId: first.memberId, groupInstanceId: null }] }).members[0]!.errorCode, 'NONE');
    assert.deepEqual(h.gc.groupState('g')?.pendingMemberIds, []);
    const memberId = h.gc.groupState('g')!.members[0]!.memberId;
    assert.equal(h.gc.leave({ groupId: 'g', members: [{ memberId, groupInstanceId: null }] }).members[0]!.errorCode, 'NONE');
    await settle();
    assert.equal(a.value.errorCode, 'UNKNOWN_MEMBER_ID');
    await h.tick(3_000);
    assert.equal(h.gc.groupState('g')?.state, 'Empty');
    assert.equal(h.clock.pendingTimers, 0);
  });
});

describe('ListGroups, DescribeGroups, DeleteGroups', () => {
  test('describe: unknown group, a group mid-rebalance, a Stable group', async () => {
    const h = new Harness();
    assert.deepEqual(h.gc.describeGroups(['none']), [
      { groupId: 'none', errorCode: 'GROUP_ID_NOT_FOUND', groupState: 'Dead', protocolType: '', protocolData: '', members: [] },
    ]);
    const a = await h.joinNew({ clientId: 'ca', clientHost: '/1.1.1.1' });
    await h.tick(0);
    const completing = h.gc.describeGroups(['g'])[0]!;
    assert.equal(completing.groupState, 'CompletingRebalance');
    assert.equal(completing.protocolData, '');
    assert.equal(completing.members[0]!.memberMetadata.length, 0);
    h.sync({ memberId: a.value.memberId, generationId: 1, assignments: [{ memberId: a.value.memberId, assignment: meta('asg') }] });
    await settle();
    assert.deepEqual(h.gc.describeGroups(['g']), [
      {
        groupId: 'g',
        errorCode: 'NONE',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [
          {
            memberId: a.value.memberId,
            groupInstanceId: null,
            clientId: 'ca',
            clientHost: '/1.1.1.1',
            memberMetadata: meta('range-meta'),
            memberAssignment: meta('asg'),
          },
        ],
      },
    ]);
  });

  test('list: every group with its state, type and protocol type; states and types filters, case-insensitive', async () => {
    const h = new Harness();
    await h.stableGroup(1, () => ({}), 'stable');
    await h.joinNew({ groupId: 'preparing', clientId: 'x' });
    h.gc.validateOffsetCommit({ groupId: 'simple', memberId: '', generationId: -1, groupInstanceId: null });
    const all = h.gc.listGroups();
    assert.equal(all.errorCode, 'NONE');
    assert.deepEqual(
      all.groups.map((g) => [g.groupId, g.groupState, g.protocolType, g.groupType]),
      [
        ['stable', 'Stable', 'consumer', 'classic'],
        ['preparing', 'PreparingRebalance', 'consumer', 'classic'],
        ['simple', 'Empty', '', 'classic'],
      ],
    );
    assert.deepEqual(h.gc.listGroups({ statesFilter: ['stable', 'EMPTY'] }).groups.map((g) => g.groupId), ['stable', 'simple']);
    assert.deepEqual(h.gc.listGroups({ typesFilter: ['Classic'] }).groups.length, 3);
    assert.deepEqual(h.gc.listGroups({ typesFilter: ['consumer'] }).groups, []);
    assert.deepEqual(h.gc.listGroups({ statesFilter: [], typesFilter: [] }).groups.length, 3);
  });

  test('delete: NON_EMPTY_GROUP with members, GROUP_ID_NOT_FOUND when unknown, an Empty group is removed and its offsets hook runs', async () => {
    const h = new Harness();
    const { ids } = await h.stableGroup(1);
    assert.deepEqual(await h.gc.deleteGroups(['g', 'unknown']), [
      { groupId: 'g', errorCode: 'NON_EMPTY_GROUP' },
      { groupId: 'unknown', errorCode: 'GROUP_ID_NOT_FOUND' },
    ]);
    h.gc.leave({ groupId: 'g', members: [{ memberId: ids[0]!, groupInstanceId: null }] });
    assert.equal(h.gc.groupState('g')?.state, 'Empty');
    assert.deepEqual(h.emptied, ['g']);
    assert.deepEqual(await h.gc.deleteGroups(['g']), [{ groupId: 'g', errorCode: 'NONE' }]);
    assert.deepEqual(h.deleted, ['g']);
    assert.equal(h.gc.groupState('g'), undefined);
    assert.equal(h.gc.describeGroups(['g'])[0]!.errorCode, 'GROUP_ID_NOT_FOUND');
    assert.deepEqual(await h.gc.deleteGroups(['g']), [{ groupId: 'g', errorCode: 'GROUP_ID_NOT_FOUND' }]);
  });

  test('delete: a failing offsets hook turns the result into UNKNOWN_SERVER_ERROR', async () => {
    const h = new Harness({
      onGroupDeleted: async (g) => {
        if (g === 'bad') throw new Error('disk full');
      },
    });
    h.gc.ensureGroup('bad');
    h.gc.ensureGroup('good');
    assert.deepEqual(await h.gc.deleteGroups(['bad', 'good', 'good']), [
      { groupId: 'bad', errorCode: 'UNKNOWN_SERVER_ERROR' },
      { groupId: 'good', errorCode: 'NONE' },
    ]);
  });

  test('ensureGroup registers an offsets-only group; removeEmptyGroup forgets only Empty groups', async () => {
    const h = new Harness();
    assert.equal(h.gc.ensureGroup('offsets-only'), 'NONE');
    assert.equal(h.gc.groupState('offsets-only')?.state, 'Empty');
    await h.stableGroup(1);
    assert.equal(h.gc.removeEmptyGroup('g'), false);
    assert.equal(h.gc.removeEmptyGroup('offsets-only'), true);
    assert.equal(h.gc.groupState('offsets-only'), undefined);
    assert.equal(h.gc.removeEmptyGroup('offsets-only'), false);
  });
});

describe('validateOffsetCommit', () => {
  test('simple commits, generation and member checks as Kafka', async () => {
    const h = new Harness();
    const v = (groupId: string, memberId: string, generationId: number, groupInstanceId: string | null = null) =>
      h.gc.validateOffsetCommit({ groupId, memberId, generationId, groupInstanceId });
    assert.equal(v('fresh', '', -1), 'NONE');
    assert.equal(h.gc.groupState('fresh')?.state, 'Empty', 'a simple commit creates the group, as Kafka');
    assert.equal(v('fresh', '', -1), 'NONE');
    assert.equal(v('unknown', 'm', 3), 'ILLEGAL_GENERATION');
    assert.equal(v('', '', -1), 'NONE', 'the empty group id is allowed for commits');

    const a = await h.joinNew();
    const b = await h.joinNew();
    await h.tick(0);
    const [ia, ib] = [a.value.memberId, b.value.memberId];
    assert.equal(v('g', ia, 1), 'REBALANCE_IN_PROGRESS', 'CompletingRebalance');
    h.sync({ memberId: ia, generationId: 1, assignments: [] });
    await settle();
    assert.equal(v('g', ia, 1), 'NONE');
    assert.equal(v('g', ib, 1), 'NONE');
    assert.equal(v('g', ia, 0), 'ILLEGAL_GENERATION');
    assert.equal(v('g', 'ghost', 1), 'UNKNOWN_MEMBER_ID');
    assert.equal(v('g', '', -1), 'UNKNOWN_MEMBER_ID', 'a simple commit to a group with members');
    assert.equal(v('g', ia, 1, 'inst'), 'UNKNOWN_MEMBER_ID');
    h.join({ memberId: ia });
    assert.equal(h.gc.groupState('g')?.state, 'PreparingRebalance');
    assert.equal(v('g', ib, 1), 'NONE', 'commits stay allowed while preparing a rebalance');
  });
});

describe('close', () => {
  test('answers parked joins and syncs with COORDINATOR_NOT_AVAILABLE and clears every timer', async () => {
    const h = new Harness();
    const a = await h.joinNew();
    const b = await h.joinNew();
    await h.tick(0);
    const sb = h.sync({ memberId: b.value.memberId, generationId: 1 });
    const c = await h.joinNew({ groupId: 'other' });
    await h.gc.join(h.joinRequest({ groupId: 'third' })); // a pending id
    await settle();
    assert.ok(h.clock.pendingTimers > 0);
    assert.equal(sb.done, false);
    assert.equal(c.done, false);
    h.gc.close();
    await settle();
    assert.equal(sb.value.errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(c.value.errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(a.value.errorCode, 'NONE');
    assert.equal(h.clock.pendingTimers, 0);
    assert.equal(h.gc.groupCount, 0);
    assert.equal((await h.gc.join(h.joinRequest())).errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(h.gc.heartbeat({ groupId: 'g', memberId: 'x', generationId: 1, groupInstanceId: null }).errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(h.gc.listGroups().errorCode, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(h.gc.validateOffsetCommit({ groupId: 'g', memberId: '', generationId: -1, groupInstanceId: null }), 'COORDINATOR_NOT_AVAILABLE');
    assert.deepEqual(await h.gc.deleteGroups(['g']), [{ groupId: 'g', errorCode: 'COORDINATOR_NOT_AVAILABLE' }]);
  });

  test('the constructor rejects impossible configuration', () => {
    assert.throws(() => new GroupCoordinator({ minSessionTimeoutMs: 10, maxSessionTimeoutMs: 5 }), RangeError);
    assert.throws(() => new GroupCoordinator({ maxGroupSize: 0 }), RangeError);
    assert.throws(() => new GroupCoordinator({ initialRebalanceDelayMs: -1 }), RangeError);
    assert.equal(new GroupCoordinator().config.initialRebalanceDelayMs, 3000);
  });
});

describe('realClock', () => {
  test('runs a coordinator on real timers (initial delay, join phase) and close() leaves nothing behind', async () => {
    const gc = new GroupCoordinator({ initialRebalanceDelayMs: 5 });
    const first = await gc.join({
      groupId: 'real',
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: protocols('range'),
      requireKnownMemberId: false,
    });
    assert.equal(first.errorCode, 'NONE', 'answered once the 5 ms initial delay passed');
    assert.equal(first.generationId, 1);
    assert.match(first.memberId, /^c-[0-9a-f-]{36}$/);
    gc.close();
  });
});
