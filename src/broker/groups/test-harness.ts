// Test helpers for the group coordinator: a coordinator on a manual clock,
// request builders, and promises whose state can be inspected without awaiting.

import assert from 'node:assert/strict';
import { ManualClock } from './clock.ts';
import { GroupCoordinator } from './coordinator.ts';
import type {
  GroupCoordinatorOptions,
  GroupProtocol,
  JoinGroupRequest,
  JoinResult,
  SyncGroupRequest,
  SyncResult,
} from './types.ts';

export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly done: boolean;
  /** The settled value; throws if not settled yet. */
  readonly value: T;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  let done = false;
  let value: T | undefined;
  const tracked = promise.then((v) => {
    done = true;
    value = v;
    return v;
  });
  return {
    promise: tracked,
    get done() {
      return done;
    },
    get value(): T {
      if (!done) throw new Error('promise not settled yet');
      return value as T;
    },
  };
}

/** Lets every resolved promise run its continuations. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const meta = (s: string): Buffer => Buffer.from(s, 'utf8');

export function protocols(...names: string[]): GroupProtocol[] {
  return names.map((name) => ({ name, metadata: meta(`${name}-meta`) }));
}

export class Harness {
  readonly clock = new ManualClock(1_000_000);
  readonly gc: GroupCoordinator;
  readonly deleted: string[] = [];
  readonly emptied: string[] = [];
  #ids = 0;

  constructor(options: GroupCoordinatorOptions = {}) {
    this.gc = new GroupCoordinator({
      clock: this.clock,
      initialRebalanceDelayMs: 0,
      randomId: () => `r${++this.#ids}`,
      onGroupDeleted: (g) => {
        this.deleted.push(g);
      },
      onGroupEmptied: (g) => {
        this.emptied.push(g);
      },
      ...options,
    });
  }

  joinRequest(over: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
    return {
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: protocols('range'),
      requireKnownMemberId: true,
      ...over,
    };
  }

  join(over: Partial<JoinGroupRequest> = {}): Tracked<JoinResult> {
    return track(this.gc.join(this.joinRequest(over)));
  }

  /**
   * A new member: the MEMBER_ID_REQUIRED step (for dynamic members), then the
   * real JoinGroup, which stays parked until the join phase ends.
   */
  async joinNew(over: Partial<JoinGroupRequest> = {}): Promise<Tracked<JoinResult>> {
    if ((over.groupInstanceId ?? null) === null && (over.requireKnownMemberId ?? true)) {
      const first = await this.gc.join(this.joinRequest({ ...over, memberId: '' }));
      assert.equal(first.errorCode, 'MEMBER_ID_REQUIRED');
      return this.join({ ...over, memberId: first.memberId });
    }
    return this.join({ ...over, memberId: '' });
  }

  sync(over: Partial<SyncGroupRequest> & { memberId: string; generationId: number }): Tracked<SyncResult> {
    return track(
      this.gc.sync({
        groupId: 'g',
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
        ...over,
      }),
    );
  }

  /** Fires timers that are due now and lets continuations run. */
  async tick(ms = 0): Promise<void> {
    this.clock.advance(ms);
    await settle();
  }

  /**
   * `n` dynamic members join group `groupId`, the leader assigns
   * `assign-<memberId>` to each, everybody syncs: a Stable group.
   */
  async stableGroup(
    n: number,
    over: (i: number) => Partial<JoinGroupRequest> = () => ({}),
    groupId = 'g',
  ): Promise<{ ids: string[]; leader: string; generation: number }> {
    const joins: Tracked<JoinResult>[] = [];
    for (let i = 0; i < n; i++) joins.push(await this.joinNew({ groupId, clientId: `c${i}`, ...over(i) }));
    await this.tick(0);
    for (const j of joins) assert.ok(j.done, 'join phase should be complete');
    const results = joins.map((j) => j.value);
    for (const r of results) assert.equal(r.errorCode, 'NONE');
    const leader = results[0]!.leader;
    const generation = results[0]!.generationId;
    const ids = results.map((r) => r.memberId);
    const syncs = results.map((r) =>
      this.sync({
        groupId,
        memberId: r.memberId,
        generationId: generation,
        groupInstanceId: over(ids.indexOf(r.memberId)).groupInstanceId ?? null,
        assignments: r.memberId === leader ? ids.map((id) => ({ memberId: id, assignment: meta(`assign-${id}`) })) : [],
      }),
    );
    await settle();
    for (const s of syncs) {
      assert.ok(s.done);
      assert.equal(s.value.errorCode, 'NONE');
    }
    assert.equal(this.gc.groupState(groupId)?.state, 'Stable');
    return { ids, leader, generation };
  }
}
