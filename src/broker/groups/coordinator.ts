// The classic consumer group coordinator (JoinGroup / SyncGroup / Heartbeat /
// LeaveGroup / ListGroups / DescribeGroups / DeleteGroups, and the membership
// check of OffsetCommit), protocol-neutral: requests and results are plain
// objects, errors are GroupErrorCode strings.
//
// Semantics follow Apache Kafka's classic group coordinator
// (GroupMetadataManager / ClassicGroup in the group-coordinator module): the
// MEMBER_ID_REQUIRED two-step join (KIP-394), static membership (KIP-345),
// protocol choice by votes, group.initial.rebalance.delay.ms for a group
// rebalancing out of Empty, the join phase ending when every member rejoined
// or the rebalance timeout passed, the pending-sync timeout after the join
// phase, session expiry, and skipAssignment for a restarted static leader
// (KIP-814).
//
// State lives in memory only. Kafka writes group metadata to
// __consumer_offsets, but classic clients rejoin by themselves after a
// coordinator restart (their next Heartbeat/SyncGroup gets UNKNOWN_MEMBER_ID
// or ILLEGAL_GENERATION and they JoinGroup again), so losing it costs one
// rebalance. Committed offsets are not here: they live in the offset store,
// which registers the groups it knows at start-up with ensureGroup() so that
// ListGroups / DescribeGroups / DeleteGroups see them.
//
// Everything is bounded: at most `maxGroups` groups, `maxGroupSize` members
// and as many pending member ids per group, one phase timer per group, one
// session timer per member or pending id. close() clears every timer and
// answers every parked JoinGroup / SyncGroup with COORDINATOR_NOT_AVAILABLE.

import { randomUUID } from 'node:crypto';
import { realClock } from './clock.ts';
import { ClassicGroup, EMPTY_BYTES, GroupMember, joinError, normalizeProtocols, syncError } from './group.ts';
import type { JoinReply, SyncReply } from './group.ts';
import {
  CLASSIC_GROUP_TYPE,
  defaultGroupCoordinatorConfig,
  type DeleteGroupResult,
  type DescribedGroup,
  type GroupClock,
  type GroupCoordinatorConfig,
  type GroupCoordinatorHooks,
  type GroupCoordinatorOptions,
  type GroupErrorCode,
  type GroupSnapshot,
  type HeartbeatRequest,
  type HeartbeatResult,
  type JoinGroupRequest,
  type JoinResult,
  type LeaveGroupRequest,
  type LeaveResult,
  type ListGroupsRequest,
  type ListGroupsResult,
  type OffsetCommitContext,
  type SyncGroupRequest,
  type SyncResult,
  type TimerHandle,
} from './types.ts';

/** A JoinGroup after normalization: deduplicated protocols, a real rebalance timeout. */
type JoinInput = JoinGroupRequest & { rebalanceTimeoutMs: number };

function checkConfig(c: GroupCoordinatorConfig): void {
  const nonNegative = ['initialRebalanceDelayMs', 'minSessionTimeoutMs', 'maxSessionTimeoutMs', 'newMemberJoinTimeoutMs'] as const;
  for (const key of nonNegative) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 0) throw new RangeError(`group coordinator: ${key} must be an integer >= 0, got ${c[key]}`);
  }
  for (const key of ['maxGroupSize', 'maxGroups'] as const) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 1) throw new RangeError(`group coordinator: ${key} must be an integer >= 1, got ${c[key]}`);
  }
  if (c.minSessionTimeoutMs > c.maxSessionTimeoutMs) {
    throw new RangeError(`group coordinator: minSessionTimeoutMs ${c.minSessionTimeoutMs} > maxSessionTimeoutMs ${c.maxSessionTimeoutMs}`);
  }
}

/** A non-null protocol type/name in a SyncGroup that differs from the group's. */
function inconsistent(requested: string | null, actual: string | null): boolean {
  return requested !== null && actual !== null && requested !== actual;
}

export class GroupCoordinator {
  readonly config: Readonly<GroupCoordinatorConfig>;
  readonly #clock: GroupClock;
  readonly #randomId: () => string;
  readonly #hooks: GroupCoordinatorHooks;
  readonly #groups = new Map<string, ClassicGroup>();
  #closed = false;

  constructor(options: GroupCoordinatorOptions = {}) {
    const config: GroupCoordinatorConfig = { ...defaultGroupCoordinatorConfig };
    for (const key of Object.keys(defaultGroupCoordinatorConfig) as (keyof GroupCoordinatorConfig)[]) {
      const v = options[key];
      if (v !== undefined) config[key] = v;
    }
    checkConfig(config);
    this.config = Object.freeze(config);
    this.#clock = options.clock ?? realClock;
    this.#randomId = options.randomId ?? randomUUID;
    this.#hooks = { onGroupDeleted: options.onGroupDeleted, onGroupEmptied: options.onGroupEmptied };
  }

  /** Number of groups held (every state but Dead). */
  get groupCount(): number {
    return this.#groups.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------- JoinGroup

  /**
   * JoinGroup. Resolves at once for errors, MEMBER_ID_REQUIRED and rejoins that
   * need no rebalance; otherwise when the join phase completes. Never rejects.
   */
  join(req: JoinGroupRequest): Promise<JoinResult> {
    return new Promise((resolve) => this.#join(req, resolve));
  }

  #join(req: JoinGroupRequest, reply: JoinReply): void {
    if (this.#closed) return reply(joinError(req.memberId, 'COORDINATOR_NOT_AVAILABLE'));
    if (req.groupId === '') return reply(joinError(req.memberId, 'INVALID_GROUP_ID'));
    if (
      !Number.isFinite(req.sessionTimeoutMs) ||
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return reply(joinError(req.memberId, 'INVALID_SESSION_TIMEOUT'));
    }
    const input: JoinInput = {
      ...req,
      protocols: normalizeProtocols(req.protocols),
      // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout.
      rebalanceTimeoutMs: req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
    };
    const isUnknownMember = req.memberId === '';
    let group = this.#groups.get(req.groupId);
    if (group === undefined) {
      // Only a member without id may create a group.
      if (!isUnknownMember) return reply(joinError(req.memberId, 'UNKNOWN_MEMBER_ID'));
      group = this.#createGroup(req.groupId);
      if (group === undefined) return reply(joinError('', 'COORDINATOR_NOT_AVAILABLE'));
    }
    try {
      if (!this.#acceptJoiningMember(group, input)) {
        const member = group.members.get(req.memberId);
        if (member !== undefined) this.#dropMember(group, member);
        return reply(joinError('', 'GROUP_MAX_SIZE_REACHED'));
      }
      if (isUnknownMember) this.#joinNewMember(group, input, reply);
      else this.#joinExistingMember(group, input, reply);
    } finally {
      this.#maybeForgetGroup(group);
    }
  }

  /**
   * Kafka's acceptJoiningMember (group.max.size). While preparing a rebalance
   * it counts the members that rejoined, so newcomers may displace members
   * that will not come back; the group can then hold more than the maximum
   * until the join phase ends (and absent static members until their sessions
   * expire). Two additions: a known static instance replaces its own slot and
   * always fits, and a hard ceiling of twice the maximum.
   */
  #acceptJoiningMember(group: ClassicGroup, req: JoinInput): boolean {
    const max = this.config.maxGroupSize;
    if (req.memberId === '' && req.groupInstanceId !== null && group.staticMembers.has(req.groupInstanceId)) return true;
    if (!group.members.has(req.memberId) && group.size >= 2 * max) return false;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance': {
        const member = group.members.get(req.memberId);
        return (member !== undefined && member.awaitingJoin) || group.numAwaitingJoin < max;
      }
      case 'CompletingRebalance':
      case 'Stable':
        return group.members.has(req.memberId) || group.size < max;
    }
  }

  #joinNewMember(group: ClassicGroup, req: JoinInput, reply: JoinReply): void {
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return reply(joinError('', 'INCONSISTENT_GROUP_PROTOCOL'));
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${this.#randomId()}`;
    if (req.groupInstanceId !== null) {
      const existing = group.staticMembers.get(req.groupInstanceId);
      if (existing !== undefined && group.members.has(existing)) {
        return this.#replaceStaticMember(group, req, existing, newMemberId, reply);
      }
      return this.#addMemberThenRebalance(group, req, newMemberId, reply);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out an id and wait for the member to come back with it.
      if (group.pending.size >= this.config.maxGroupSize) return reply(joinError('', 'GROUP_MAX_SIZE_REACHED'));
      const timer = this.#clock.setTimeout(() => this.#expirePendingMember(group, newMemberId, timer), req.sessionTimeoutMs);
      group.pending.set(newMemberId, timer);
      return reply(joinError(newMemberId, 'MEMBER_ID_REQUIRED'));
    }
    this.#addMemberThenRebalance(group, req, newMemberId, reply);
  }

  #joinExistingMember(group: ClassicGroup, req: JoinInput, reply: JoinReply): void {
    const memberId = req.memberId;
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return reply(joinError(memberId, 'INCONSISTENT_GROUP_PROTOCOL'));
    }
    const pendingTimer = group.pending.get(memberId);
    if (pendingTimer !== undefined) {
      // Pending ids are only handed to dynamic members.
      if (req.groupInstanceId !== null) return reply(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
      this.#clock.clearTimeout(pendingTimer);
      group.pending.delete(memberId);
      return this.#addMemberThenRebalance(group, req, memberId, reply);
    }
    const error = group.validateMember(memberId, req.groupInstanceId);
    if (error !== 'NONE') return reply(joinError(memberId, error));
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.#updateMemberThenRebalance(group, member, req, reply);
      case 'CompletingRebalance':
        // Same metadata: the member probably lost the first answer; repeat it.
        if (member.matches(req.protocols)) return reply(this.#joinAnswer(group, member.memberId, group.isLeader(memberId)));
        return this.#updateMemberThenRebalance(group, member, req, reply);
      case 'Stable':
        // The leader rejoining forces a rebalance (it may have seen metadata change); so do changed protocols.
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          return this.#updateMemberThenRebalance(group, member, req, reply);
        }
        return reply(this.#joinAnswer(group, memberId, false));
      default:
        return reply(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
    }
  }

  /** The current generation as a JoinGroup answer. */
  #joinAnswer(group: ClassicGroup, memberId: string, withMembers: boolean): JoinResult {
    return {
      errorCode: 'NONE',
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.joinMembers() : [],
    };
  }

  #addMemberThenRebalance(group: ClassicGroup, req: JoinInput, memberId: string, reply: JoinReply): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    group.add(member, reply);
    // A new member cannot heartbeat while its JoinGroup is parked; it gets the
    // (long) new-member timeout instead of its session timeout.
    this.#scheduleSession(group, member, this.config.newMemberJoinTimeoutMs);
    this.#maybePrepareRebalanceOrCompleteJoin(group);
  }

  #updateMemberThenRebalance(group: ClassicGroup, member: GroupMember, req: JoinInput, reply: JoinReply): void {
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, reply);
    this.#maybePrepareRebalanceOrCompleteJoin(group);
  }

  /** KIP-345: a static member rejoins without member id; it takes over the old member's place under a new id. */
  #replaceStaticMember(group: ClassicGroup, req: JoinInput, oldMemberId: string, newMemberId: string, reply: JoinReply): void {
    const instanceId = req.groupInstanceId!;
    const currentLeader = group.leaderId;
    const old = group.members.get(oldMemberId)!;
    this.#cancelSession(old);
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, reply);
    this.#scheduleSession(group, member, member.sessionTimeoutMs);

    switch (group.state) {
      case 'Stable': {
        if (group.selectProtocol() !== group.protocolName) return this.#maybePrepareRebalanceOrCompleteJoin(group);
        // Same protocol: no rebalance; the member keeps its assignment.
        if (req.supportsSkipAssignment === true) {
          const isLeader = group.isLeader(newMemberId);
          const answer = this.#joinAnswer(group, newMemberId, isLeader);
          group.completeJoin(member, { ...answer, skipAssignment: isLeader });
        } else {
          // Older clients: name the old leader id so a restarted leader does not
          // run an assignment that a Stable group would never hand out.
          group.completeJoin(member, { ...this.#joinAnswer(group, newMemberId, false), leader: currentLeader ?? '' });
        }
        return;
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old id: start over.
        return this.#prepareRebalance(group);
      case 'PreparingRebalance':
        return this.#maybeCompleteJoinPhase(group);
      default:
        throw new Error(`group ${group.groupId}: static member rejoined in state ${group.state}`);
    }
  }

  // ---------------------------------------------------------------- rebalance

  #maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): void {
    if (group.canRebalance()) this.#prepareRebalance(group);
    else this.#maybeCompleteJoinPhase(group);
  }

  /** Completes the join phase early when everyone is in, except during the initial delay. */
  #maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined() && group.previousState !== 'Empty') {
      this.#completeJoin(group);
    }
  }

  #prepareRebalance(group: ClassicGroup): void {
    if (group.is('CompletingRebalance')) this.#resetAndPropagateAssignmentError(group, 'REBALANCE_IN_PROGRESS');
    group.pendingSync.clear();
    this.#cancelPhaseTimer(group);
    const initial = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.#clock.nowMs());
    if (initial) {
      // A new group waits group.initial.rebalance.delay.ms for more members,
      // extended while members keep arriving, up to the rebalance timeout.
      group.newMemberAdded = false;
      const delay = this.config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.#setPhaseTimer(group, delay, () => this.#initialDelayElapsed(group, delay, remaining));
    } else if (group.hasAllMembersJoined()) {
      this.#completeJoin(group);
    } else {
      this.#setPhaseTimer(group, group.rebalanceTimeoutMs(), () => this.#completeJoin(group));
    }
  }

  #initialDelayElapsed(group: ClassicGroup, delay: number, remaining: number): void {
    if (group.newMemberAdded && remaining !== 0) {
      group.newMemberAdded = false;
      const nextDelay = Math.min(this.config.initialRebalanceDelayMs, remaining);
      const nextRemaining = Math.max(remaining - delay, 0);
      this.#setPhaseTimer(group, nextDelay, () => this.#initialDelayElapsed(group, nextDelay, nextRemaining));
    } else {
      this.#completeJoin(group);
    }
  }

  /**
   * End of the join phase: dynamic members that did not rejoin are removed,
   * the generation advances, every parked JoinGroup is answered (the leader
   * with the members) and the group waits for SyncGroups.
   */
  #completeJoin(group: ClassicGroup): void {
    this.#cancelPhaseTimer(group);
    if (group.is('Dead')) return;
    for (const member of [...group.members.values()]) {
      if (!member.awaitingJoin && member.groupInstanceId === null) this.#dropMember(group, member);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members remain and none rejoined: wait another rebalance
      // timeout, while their sessions expire.
      this.#setPhaseTimer(group, group.rebalanceTimeoutMs(), () => this.#completeJoin(group));
      return;
    }
    group.initNextGeneration(this.#clock.nowMs());
    if (group.is('Empty')) {
      this.#callHook(() => this.#hooks.onGroupEmptied?.(group.groupId));
      return;
    }
    const members = group.joinMembers();
    for (const member of group.members.values()) {
      const isLeader = group.isLeader(member.memberId);
      group.completeJoin(member, {
        errorCode: 'NONE',
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        skipAssignment: false,
        memberId: member.memberId,
        members: isLeader ? members : [],
      });
      this.#scheduleSession(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.pendingSync.add(member.memberId);
    }
    const generation = group.generationId;
    this.#setPhaseTimer(group, group.rebalanceTimeoutMs(), () => this.#expirePendingSync(group, generation));
  }

  /** Members that got their JoinGroup answer but sent no SyncGroup within the rebalance timeout are removed. */
  #expirePendingSync(group: ClassicGroup, generation: number): void {
    if (generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSync.size === 0) return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.members.get(memberId);
      if (member !== undefined) this.#dropMember(group, member);
    }
    group.pendingSync.clear();
    this.#prepareRebalance(group);
  }

  #resetAndPropagateAssignmentError(group: ClassicGroup, error: GroupErrorCode): void {
    for (const member of group.members.values()) member.assignment = null;
    for (const member of group.members.values()) {
      if (group.completeSync(member, syncError(error))) this.#scheduleSession(group, member, member.sessionTimeoutMs);
    }
  }

  #setAndPropagateAssignment(group: ClassicGroup, assignments: Map<string, Buffer>): void {
    for (const member of group.members.values()) member.assignment = assignments.get(member.memberId) ?? EMPTY_BYTES;
    for (const member of group.members.values()) {
      const answered = group.completeSync(member, {
        errorCode: 'NONE',
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: member.assignment ?? EMPTY_BYTES,
      });
      // Sessions restart when the assignment goes out: a member parked in
      // SyncGroup could not heartbeat meanwhile.
      if (answered) this.#scheduleSession(group, member, member.sessionTimeoutMs);
    }
  }

  // ---------------------------------------------------------------- SyncGroup

  /** SyncGroup. Followers in CompletingRebalance wait for the leader's assignment. Never rejects. */
  sync(req: SyncGroupRequest): Promise<SyncResult> {
    return new Promise((resolve) => this.#sync(req, resolve));
  }

  #sync(req: SyncGroupRequest, reply: SyncReply): void {
    if (this.#closed) return reply(syncError('COORDINATOR_NOT_AVAILABLE'));
    if (req.groupId === '') return reply(syncError('INVALID_GROUP_ID'));
    const group = this.#groups.get(req.groupId);
    if (group === undefined) return reply(syncError('UNKNOWN_MEMBER_ID'));
    const error = group.validateMember(req.memberId, req.groupInstanceId);
    if (error !== 'NONE') return reply(syncError(error));
    if (req.generationId !== group.generationId) return reply(syncError('ILLEGAL_GENERATION'));
    if (inconsistent(req.protocolType, group.protocolType) || inconsistent(req.protocolName, group.protocolName)) {
      return reply(syncError('INCONSISTENT_GROUP_PROTOCOL'));
    }
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return reply(syncError('REBALANCE_IN_PROGRESS'));
      case 'CompletingRebalance': {
        group.setSyncReply(member, reply);
        this.#removePendingSync(group, member.memberId);
        if (group.isLeader(member.memberId)) {
          const assignments = new Map<string, Buffer>();
          for (const a of req.assignments) {
            if (group.members.has(a.memberId)) assignments.set(a.memberId, Buffer.from(a.assignment));
          }
          this.#setAndPropagateAssignment(group, assignments);
          group.transitionTo('Stable', this.#clock.nowMs());
        }
        return;
      }
      case 'Stable':
        this.#removePendingSync(group, member.memberId);
        this.#scheduleSession(group, member, member.sessionTimeoutMs);
        return reply({
          errorCode: 'NONE',
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment ?? EMPTY_BYTES,
        });
      default:
        return reply(syncError('UNKNOWN_MEMBER_ID'));
    }
  }

  #removePendingSync(group: ClassicGroup, memberId: string): void {
    group.pendingSync.delete(memberId);
    if (group.pendingSync.size === 0 && (group.is('CompletingRebalance') || group.is('Stable'))) {
      this.#cancelPhaseTimer(group);
    }
  }

  // ---------------------------------------------------------------- Heartbeat

  heartbeat(req: HeartbeatRequest): HeartbeatResult {
    if (this.#closed) return { errorCode: 'COORDINATOR_NOT_AVAILABLE' };
    if (req.groupId === '') return { errorCode: 'INVALID_GROUP_ID' };
    const group = this.#groups.get(req.groupId);
    if (group === undefined) return { errorCode: 'UNKNOWN_MEMBER_ID' };
    const error = group.validateMember(req.memberId, req.groupInstanceId);
    if (error !== 'NONE') return { errorCode: error };
    if (req.generationId !== group.generationId) return { errorCode: 'ILLEGAL_GENERATION' };
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        this.#scheduleSession(group, member, member.sessionTimeoutMs);
        return { errorCode: 'REBALANCE_IN_PROGRESS' };
      case 'CompletingRebalance':
      case 'Stable':
        // Clients may heartbeat between their JoinGroup answer and SyncGroup.
        this.#scheduleSession(group, member, member.sessionTimeoutMs);
        return { errorCode: 'NONE' };
      default:
        return { errorCode: 'UNKNOWN_MEMBER_ID' };
    }
  }

  // ---------------------------------------------------------------- LeaveGroup

  /** LeaveGroup, one result per member (v3+ batch; v0-2 pass one member). */
  leave(req: LeaveGroupRequest): LeaveResult {
    if (this.#closed) return { errorCode: 'COORDINATOR_NOT_AVAILABLE', members: [] };
    if (req.groupId === '') return { errorCode: 'INVALID_GROUP_ID', members: [] };
    const group = this.#groups.get(req.groupId);
    if (group === undefined) {
      return {
        errorCode: 'NONE',
        members: req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: 'UNKNOWN_MEMBER_ID' })),
      };
    }
    const results: LeaveResult['members'] = [];
    let membersLeft = false;
    let pendingLeft = false;
    for (const leaving of req.members) {
      let errorCode: GroupErrorCode = 'NONE';
      const pendingTimer = group.pending.get(leaving.memberId);
      if (leaving.memberId === '') {
        // Admin removal of a static member by instance id alone.
        const staticId = leaving.groupInstanceId === null ? undefined : group.staticMembers.get(leaving.groupInstanceId);
        const member = staticId === undefined ? undefined : group.members.get(staticId);
        if (member === undefined) errorCode = 'UNKNOWN_MEMBER_ID';
        else {
          this.#dropMember(group, member);
          membersLeft = true;
        }
      } else if (pendingTimer !== undefined) {
        this.#clock.clearTimeout(pendingTimer);
        group.pending.delete(leaving.memberId);
        pendingLeft = true;
      } else {
        errorCode = group.validateMember(leaving.memberId, leaving.groupInstanceId);
        if (errorCode === 'NONE') {
          this.#dropMember(group, group.members.get(leaving.memberId)!);
          membersLeft = true;
        }
      }
      results.push({ memberId: leaving.memberId, groupInstanceId: leaving.groupInstanceId, errorCode });
    }
    if (membersLeft && (group.is('Stable') || group.is('CompletingRebalance'))) {
      this.#maybePrepareRebalanceOrCompleteJoin(group);
    } else if ((membersLeft || pendingLeft) && group.is('PreparingRebalance')) {
      // (Kafka also rebalances a Stable group when a never-joined pending id
      // leaves; nothing changed for the members, so we do not.)
      this.#maybeCompleteJoinPhase(group);
    }
    this.#maybeForgetGroup(group);
    return { errorCode: 'NONE', members: results };
  }

  // ---------------------------------------------------------------- admin

  listGroups(req: ListGroupsRequest = {}): ListGroupsResult {
    if (this.#closed) return { errorCode: 'COORDINATOR_NOT_AVAILABLE', groups: [] };
    const states = new Set((req.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((req.typesFilter ?? []).map((s) => s.toLowerCase()));
    if (types.size > 0 && !types.has(CLASSIC_GROUP_TYPE)) return { errorCode: 'NONE', groups: [] };
    const groups: ListGroupsResult['groups'] = [];
    for (const group of this.#groups.values()) {
      if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
      groups.push({
        groupId: group.groupId,
        protocolType: group.protocolType ?? '',
        groupState: group.state,
        groupType: CLASSIC_GROUP_TYPE,
      });
    }
    return { errorCode: 'NONE', groups };
  }

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => this.#describe(groupId));
  }

  #describe(groupId: string): DescribedGroup {
    if (this.#closed) {
      return { groupId, errorCode: 'COORDINATOR_NOT_AVAILABLE', groupState: '', protocolType: '', protocolData: '', members: [] };
    }
    const group = this.#groups.get(groupId);
    if (group === undefined) {
      return { groupId, errorCode: 'GROUP_ID_NOT_FOUND', groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    }
    // As Kafka: protocol, metadata and assignments only once the group is Stable.
    const stable = group.is('Stable');
    return {
      groupId,
      errorCode: 'NONE',
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(group.protocolName) : EMPTY_BYTES,
        memberAssignment: stable ? (m.assignment ?? EMPTY_BYTES) : EMPTY_BYTES,
      })),
    };
  }

  /**
   * DeleteGroups: an Empty group is removed and onGroupDeleted runs for it (the
   * offset store drops its offsets); a group with members gets NON_EMPTY_GROUP,
   * an unknown one GROUP_ID_NOT_FOUND.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    const unique = [...new Set(groupIds)];
    if (this.#closed) return unique.map((groupId) => ({ groupId, errorCode: 'COORDINATOR_NOT_AVAILABLE' as const }));
    const results: DeleteGroupResult[] = [];
    const deleted: DeleteGroupResult[] = [];
    for (const groupId of unique) {
      const group = this.#groups.get(groupId);
      let errorCode: GroupErrorCode;
      if (group === undefined) errorCode = 'GROUP_ID_NOT_FOUND';
      else if (!group.is('Empty')) errorCode = 'NON_EMPTY_GROUP';
      else {
        this.#removeGroup(group);
        errorCode = 'NONE';
      }
      const result = { groupId, errorCode };
      results.push(result);
      if (errorCode === 'NONE') deleted.push(result);
    }
    const hook = this.#hooks.onGroupDeleted;
    if (hook !== undefined) {
      await Promise.all(
        deleted.map(async (result) => {
          try {
            await hook(result.groupId);
          } catch {
            result.errorCode = 'UNKNOWN_SERVER_ERROR';
          }
        }),
      );
    }
    return results;
  }

  /**
   * The error an OffsetCommit must get from the group's point of view ('NONE'
   * to store it). Generation < 0 with no member id is a simple (standalone)
   * commit: allowed while the group is Empty, and an unknown group is then
   * created Empty, as Kafka does. An unknown group with a generation gets
   * ILLEGAL_GENERATION (Kafka's answer below OffsetCommit v9).
   */
  validateOffsetCommit(ctx: OffsetCommitContext): GroupErrorCode {
    if (this.#closed) return 'COORDINATOR_NOT_AVAILABLE';
    let group = this.#groups.get(ctx.groupId);
    if (group === undefined) {
      if (ctx.generationId >= 0) return 'ILLEGAL_GENERATION';
      group = this.#createGroup(ctx.groupId);
      if (group === undefined) return 'COORDINATOR_NOT_AVAILABLE';
      group.keep = true;
      return 'NONE';
    }
    if (ctx.generationId < 0 && group.is('Empty')) {
      group.keep = true;
      return 'NONE';
    }
    if (ctx.generationId >= 0 || ctx.memberId !== '' || ctx.groupInstanceId !== null) {
      const error = group.validateMember(ctx.memberId, ctx.groupInstanceId);
      if (error !== 'NONE') return error;
      if (ctx.generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    } else {
      // No member id and no generation: only an Empty group accepts it.
      return 'UNKNOWN_MEMBER_ID';
    }
    // Valid member of the current generation that has not synced yet.
    if (group.is('CompletingRebalance')) return 'REBALANCE_IN_PROGRESS';
    return 'NONE';
  }

  /**
   * Registers a group known to hold committed offsets (the offset store calls
   * this for every group it loads), so the admin APIs see it. Creates it Empty
   * if absent; COORDINATOR_NOT_AVAILABLE when closed or at `maxGroups`.
   */
  ensureGroup(groupId: string): GroupErrorCode {
    if (this.#closed) return 'COORDINATOR_NOT_AVAILABLE';
    const group = this.#groups.get(groupId) ?? this.#createGroup(groupId);
    if (group === undefined) return 'COORDINATOR_NOT_AVAILABLE';
    group.keep = true;
    return 'NONE';
  }

  /**
   * Forgets an Empty group without pending members (e.g. once its last
   * offsets expired). Does not call onGroupDeleted. True if it was removed.
   */
  removeEmptyGroup(groupId: string): boolean {
    const group = this.#groups.get(groupId);
    if (group === undefined || !group.is('Empty') || group.pending.size > 0) return false;
    this.#removeGroup(group);
    return true;
  }

  /** A copy of one group's full state, or undefined. */
  groupState(groupId: string): GroupSnapshot | undefined {
    const group = this.#groups.get(groupId);
    if (group === undefined) return undefined;
    return {
      groupId: group.groupId,
      state: group.state,
      previousState: group.previousState,
      stateTimestampMs: group.stateTimestampMs,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocols: m.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
        assignment: m.assignment === null ? null : Buffer.from(m.assignment),
        awaitingJoin: m.awaitingJoin,
        awaitingSync: m.awaitingSync,
        isNew: m.isNew,
      })),
      pendingMemberIds: [...group.pending.keys()],
      pendingSyncMemberIds: [...group.pendingSync],
      staticMembers: [...group.staticMembers].map(([groupInstanceId, memberId]) => ({ groupInstanceId, memberId })),
    };
  }

  /** Ids of every group held. */
  groupIds(): string[] {
    return [...this.#groups.keys()];
  }

  /** Cancels every timer and answers every parked JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) {
      this.#cancelPhaseTimer(group);
      for (const timer of group.pending.values()) this.#clock.clearTimeout(timer);
      group.pending.clear();
      for (const member of group.members.values()) {
        this.#cancelSession(member);
        group.completeJoin(member, joinError(member.memberId, 'COORDINATOR_NOT_AVAILABLE'));
        group.completeSync(member, syncError('COORDINATOR_NOT_AVAILABLE'));
      }
      group.transitionTo('Dead', this.#clock.nowMs());
    }
  }

  // ---------------------------------------------------------------- internals

  #createGroup(groupId: string): ClassicGroup | undefined {
    if (this.#groups.size >= this.config.maxGroups) return undefined;
    const group = new ClassicGroup(groupId, this.#clock.nowMs());
    this.#groups.set(groupId, group);
    return group;
  }

  #removeGroup(group: ClassicGroup): void {
    this.#cancelPhaseTimer(group);
    for (const timer of group.pending.values()) this.#clock.clearTimeout(timer);
    group.pending.clear();
    for (const member of [...group.members.values()]) this.#dropMember(group, member);
    group.transitionTo('Dead', this.#clock.nowMs());
    if (this.#groups.get(group.groupId) === group) this.#groups.delete(group.groupId);
  }

  /**
   * A group that never completed a generation, has nobody in it and is not
   * known to hold offsets is dropped (e.g. after a rejected first join or an
   * expired MEMBER_ID_REQUIRED id), so such joins cannot pile up groups.
   */
  #maybeForgetGroup(group: ClassicGroup): void {
    if (
      group.is('Empty') &&
      group.generationId === 0 &&
      group.size === 0 &&
      group.pending.size === 0 &&
      !group.keep &&
      this.#groups.get(group.groupId) === group
    ) {
      this.#removeGroup(group);
    }
  }

  /** Removes a member (answering its parked requests with UNKNOWN_MEMBER_ID) without touching the group's phase. */
  #dropMember(group: ClassicGroup, member: GroupMember): void {
    this.#cancelSession(member);
    group.remove(member.memberId);
  }

  #scheduleSession(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    this.#cancelSession(member);
    const timer = this.#clock.setTimeout(() => this.#sessionExpired(group, member, timer), timeoutMs);
    member.sessionTimer = timer;
  }

  #cancelSession(member: GroupMember): void {
    if (member.sessionTimer !== null) {
      this.#clock.clearTimeout(member.sessionTimer);
      member.sessionTimer = null;
    }
  }

  #sessionExpired(group: ClassicGroup, member: GroupMember, timer: TimerHandle): void {
    if (member.sessionTimer !== timer || group.members.get(member.memberId) !== member) return;
    member.sessionTimer = null;
    if (group.is('Dead')) return;
    // A member parked in JoinGroup or SyncGroup cannot heartbeat; its session
    // restarts when that phase ends. A new member's parked join has timed out.
    if (!member.isNew && (member.awaitingJoin || member.awaitingSync)) return;
    this.#dropMember(group, member);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.#maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.#completeJoin(group);
  }

  #expirePendingMember(group: ClassicGroup, memberId: string, timer: TimerHandle): void {
    if (group.pending.get(memberId) !== timer) return;
    group.pending.delete(memberId);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.#completeJoin(group);
    this.#maybeForgetGroup(group);
  }

  #setPhaseTimer(group: ClassicGroup, ms: number, fn: () => void): void {
    this.#cancelPhaseTimer(group);
    const timer = this.#clock.setTimeout(() => {
      if (group.phaseTimer !== timer) return;
      group.phaseTimer = null;
      fn();
    }, ms);
    group.phaseTimer = timer;
  }

  #cancelPhaseTimer(group: ClassicGroup): void {
    if (group.phaseTimer !== null) {
      this.#clock.clearTimeout(group.phaseTimer);
      group.phaseTimer = null;
    }
  }

  #callHook(fn: () => void): void {
    try {
      fn();
    } catch {
      // A hook must not break the group state machine.
    }
  }
}

