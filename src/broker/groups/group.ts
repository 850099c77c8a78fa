// One classic group's state: members, static instance ids, pending member ids,
// protocol support counts and the state machine. No timers and no I/O here;
// the coordinator drives this and owns every timer.

import type {
  GroupErrorCode,
  GroupProtocol,
  GroupStateName,
  JoinGroupMember,
  JoinResult,
  SyncResult,
  TimerHandle,
} from './types.ts';

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** Which states a state may be entered from (Kafka's ClassicGroupState.validPreviousStates). */
const VALID_PREVIOUS: Readonly<Record<GroupStateName, readonly GroupStateName[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export type JoinReply = (result: JoinResult) => void;
export type SyncReply = (result: SyncResult) => void;

export function joinError(memberId: string, errorCode: GroupErrorCode): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: GroupErrorCode): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

/** Keeps the first protocol of each name (the wire collection is keyed by name) and copies the metadata. */
export function normalizeProtocols(protocols: readonly GroupProtocol[]): GroupProtocol[] {
  const seen = new Set<string>();
  const out: GroupProtocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, metadata: Buffer.from(p.metadata) });
  }
  return out;
}

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  readonly protocolType: string;
  protocols: GroupProtocol[];
  /** null until an assignment is set (and after a rebalance reset it). */
  assignment: Buffer | null = null;
  /** True from joining until the member's first join phase completes. */
  isNew = false;
  joinReply: JoinReply | null = null;
  syncReply: SyncReply | null = null;
  sessionTimer: TimerHandle | null = null;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    sessionTimeoutMs: number;
    rebalanceTimeoutMs: number;
    protocolType: string;
    protocols: GroupProtocol[];
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
  }

  get awaitingJoin(): boolean {
    return this.joinReply !== null;
  }

  get awaitingSync(): boolean {
    return this.syncReply !== null;
  }

  /** Same protocols, names and metadata, in the same order. */
  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !a.metadata.equals(b.metadata)) return false;
    }
    return true;
  }

  metadataFor(protocolName: string | null): Buffer {
    if (protocolName === null) return EMPTY_BYTES;
    for (const p of this.protocols) if (p.name === protocolName) return p.metadata;
    return EMPTY_BYTES;
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    for (const p of this.protocols) if (candidates.has(p.name)) return p.name;
    return undefined;
  }
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupStateName = 'Empty';
  previousState: GroupStateName = 'Empty';
  stateTimestampMs: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Insertion order matters: a new leader is the first remaining member. */
  readonly members = new Map<string, GroupMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, each with its expiry timer. */
  readonly pending = new Map<string, TimerHandle>();
  /** Members that got a JoinGroup answer for this generation and have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** The timer of the current phase: initial delay, join (rebalance timeout) or pending sync. */
  phaseTimer: TimerHandle | null = null;
  /** A member joined during the initial rebalance delay, so the delay may be extended. */
  newMemberAdded = false;
  /** Known to hold offsets (created by a commit or registered by the offset store): never dropped as unused. */
  keep = false;
  readonly #supported = new Map<string, number>();
  #numAwaitingJoin = 0;

  constructor(groupId: string, nowMs: number) {
    this.groupId = groupId;
    this.stateTimestampMs = nowMs;
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.#numAwaitingJoin;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  transitionTo(target: GroupStateName, nowMs: number): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) {
      throw new Error(`group ${this.groupId}: cannot move from ${this.state} to ${target}`);
    }
    this.previousState = this.state;
    this.state = target;
    this.stateTimestampMs = nowMs;
  }

  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** Max of the members' rebalance timeouts (0 without members). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.#numAwaitingJoin && this.pending.size === 0;
  }

  /**
   * UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID when the (member id, instance id)
   * pair does not name a current member, else NONE.
   */
  validateMember(memberId: string, groupInstanceId: string | null): GroupErrorCode {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return 'UNKNOWN_MEMBER_ID';
      if (existing !== memberId) return 'FENCED_INSTANCE_ID';
    }
    return this.members.has(memberId) ? 'NONE' : 'UNKNOWN_MEMBER_ID';
  }

  /** Whether a member of `protocolType` listing `names` could join (some protocol all members support). */
  supportsProtocols(protocolType: string, names: readonly string[]): boolean {
    if (this.state === 'Empty') return protocolType !== '' && names.length > 0;
    if (this.protocolType !== protocolType) return false;
    const size = this.members.size;
    return names.some((n) => (this.#supported.get(n) ?? 0) === size);
  }

  /** The protocol with most votes among those every member supports; ties go to the earliest voter's choice. */
  selectProtocol(): string | null {
    if (this.members.size === 0) return null;
    const size = this.members.size;
    const candidates = new Set<string>();
    for (const [name, count] of this.#supported) if (count === size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  add(member: GroupMember, reply: JoinReply | null): void {
    if (this.members.has(member.memberId)) throw new Error(`member ${member.memberId} already in ${this.groupId}`);
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`instance ${member.groupInstanceId} already in ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.#count(member.protocols, 1);
    this.setJoinReply(member, reply);
  }

  /** Removes the member; a JoinGroup or SyncGroup still parked for it is answered UNKNOWN_MEMBER_ID. */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.completeJoin(member, joinError('', 'UNKNOWN_MEMBER_ID'));
      this.completeSync(member, syncError('UNKNOWN_MEMBER_ID'));
      this.members.delete(memberId);
      this.#count(member.protocols, -1);
      if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
        this.staticMembers.delete(member.groupInstanceId);
      }
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.pendingSync.delete(memberId);
    return member;
  }

  /**
   * KIP-345: the static member `groupInstanceId` continues under `newMemberId`
   * with everything else kept (protocols, timeouts, assignment). Parked
   * requests of the old id are answered with FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const old = this.members.get(oldMemberId);
    if (old === undefined) throw new Error(`cannot replace missing member ${oldMemberId}`);
    this.completeJoin(old, joinError(oldMemberId, 'FENCED_INSTANCE_ID'));
    this.completeSync(old, syncError('FENCED_INSTANCE_ID'));
    this.members.delete(oldMemberId);
    const next = new GroupMember({
      memberId: newMemberId,
      groupInstanceId: old.groupInstanceId,
      clientId: old.clientId,
      clientHost: old.clientHost,
      sessionTimeoutMs: old.sessionTimeoutMs,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
      protocolType: old.protocolType,
      protocols: old.protocols,
    });
    next.assignment = old.assignment;
    next.isNew = old.isNew;
    this.members.set(newMemberId, next);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return next;
  }

  updateMember(
    member: GroupMember,
    protocols: GroupProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    reply: JoinReply | null,
  ): void {
    this.#count(member.protocols, -1);
    member.protocols = protocols;
    this.#count(member.protocols, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    this.setJoinReply(member, reply);
  }

  /** Parks a JoinGroup; a JoinGroup already parked for the member is answered REBALANCE_IN_PROGRESS. */
  setJoinReply(member: GroupMember, reply: JoinReply | null): void {
    const previous = member.joinReply;
    if (previous !== null && reply !== null) {
      member.joinReply = null;
      previous(joinError(member.memberId, 'REBALANCE_IN_PROGRESS'));
    }
    if (member.joinReply === null && reply !== null) this.#numAwaitingJoin++;
    else if (member.joinReply !== null && reply === null) this.#numAwaitingJoin--;
    member.joinReply = reply;
  }

  /** Parks a SyncGroup; a SyncGroup already parked for the member is answered REBALANCE_IN_PROGRESS. */
  setSyncReply(member: GroupMember, reply: SyncReply): void {
    const previous = member.syncReply;
    member.syncReply = reply;
    if (previous !== null) previous(syncError('REBALANCE_IN_PROGRESS'));
  }

  /** Answers the member's parked JoinGroup, if any; true when there was one. */
  completeJoin(member: GroupMember, result: JoinResult): boolean {
    const reply = member.joinReply;
    if (reply === null) return false;
    member.joinReply = null;
    this.#numAwaitingJoin--;
    reply(result);
    return true;
  }

  /** Answers the member's parked SyncGroup, if any; true when there was one. */
  completeSync(member: GroupMember, result: SyncResult): boolean {
    const reply = member.syncReply;
    if (reply === null) return false;
    member.syncReply = null;
    reply(result);
    return true;
  }

  /**
   * If the leader did not rejoin, the first member that did becomes leader.
   * False when there is no leader or nobody rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader !== undefined && leader.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Next generation: CompletingRebalance with a chosen protocol, or Empty without members. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSync.clear();
  }

  /** The members as the leader's JoinGroup answer lists them. */
  joinMembers(): JoinGroupMember[] {
    const out: JoinGroupMember[] = [];
    for (const m of this.members.values()) {
      out.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(this.protocolName) });
    }
    return out;
  }

  #count(protocols: readonly GroupProtocol[], delta: number): void {
    for (const p of protocols) {
      const n = (this.#supported.get(p.name) ?? 0) + delta;
      if (n === 0) this.#supported.delete(p.name);
      else this.#supported.set(p.name, n);
    }
  }
}
