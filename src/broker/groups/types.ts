// Public shapes of the classic group coordinator. Nothing here knows a wire
// protocol: errors are neutral string codes that each front end maps to its
// own numbers in one table (the Kafka front end to Kafka error codes).

/**
 * Every error the coordinator returns. The names are Kafka's because the
 * classic group protocol is Kafka's, but they are plain strings: a front end
 * maps them, and nothing here imports a codec.
 */
export type GroupErrorCode =
  | 'NONE'
  /** The coordinator is closed, or it holds as many groups as `maxGroups` allows. Retriable. */
  | 'COORDINATOR_NOT_AVAILABLE'
  /** An empty group id where the API needs one (JoinGroup, SyncGroup, Heartbeat, LeaveGroup). */
  | 'INVALID_GROUP_ID'
  | 'UNKNOWN_MEMBER_ID'
  /** JoinGroup v4+ first step: the result carries the member id to rejoin with. */
  | 'MEMBER_ID_REQUIRED'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'INCONSISTENT_GROUP_PROTOCOL'
  | 'INVALID_SESSION_TIMEOUT'
  | 'GROUP_MAX_SIZE_REACHED'
  /** A static member (group.instance.id) whose member id was replaced by a newer join. */
  | 'FENCED_INSTANCE_ID'
  | 'NON_EMPTY_GROUP'
  | 'GROUP_ID_NOT_FOUND'
  | 'UNKNOWN_SERVER_ERROR';

/** Kafka's classic group states, spelled exactly as DescribeGroups and ListGroups report them. */
export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupStateName[] = Object.freeze([
  'Empty',
  'PreparingRebalance',
  'CompletingRebalance',
  'Stable',
  'Dead',
]);

/** The group type ListGroups v5 reports for every group this coordinator runs. */
export const CLASSIC_GROUP_TYPE = 'classic';

/** Timer handle as returned by the injected clock. */
export type TimerHandle = unknown;

/**
 * Time source and timers. The coordinator never reads the wall clock or calls
 * the global timers directly, so tests drive it with a manual clock.
 */
export interface GroupClock {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms: how long the first rebalance of an Empty group waits for more members. */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.max.size: members per group (Kafka's default is unbounded; ours is a cap). Also caps pending member ids. */
  maxGroupSize: number;
  /** Groups this coordinator holds at once; joins or commits that would create one more get COORDINATOR_NOT_AVAILABLE. */
  maxGroups: number;
  /** group.classic.new.member.join.timeout.ms: a new member parked in a JoinGroup is dropped after this long. */
  newMemberJoinTimeoutMs: number;
}

export const defaultGroupCoordinatorConfig: Readonly<GroupCoordinatorConfig> = Object.freeze({
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 10_000,
  maxGroups: 100_000,
  newMemberJoinTimeoutMs: 300_000,
});

export interface GroupCoordinatorHooks {
  /**
   * Called after DeleteGroups removed an Empty group, so the offset store can
   * drop its committed offsets. A rejected promise or a throw turns that group's
   * result into UNKNOWN_SERVER_ERROR (the group is gone either way).
   */
  onGroupDeleted?: (groupId: string) => void | Promise<void>;
  /** Called when a group's last member is gone and it enters Empty (offset retention starts then in Kafka). */
  onGroupEmptied?: (groupId: string) => void;
}

export interface GroupCoordinatorOptions extends Partial<GroupCoordinatorConfig>, GroupCoordinatorHooks {
  /** Defaults to the real clock (Date.now, unref'd timers). */
  clock?: GroupClock;
  /** Generates the random part of member ids (default crypto.randomUUID). */
  randomId?: () => string;
}

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupRequest {
  groupId: string;
  /** '' for a member that has no id yet. */
  memberId: string;
  /** group.instance.id (KIP-345 static membership), null for dynamic members. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** JoinGroup v0 has none: pass -1 and the session timeout is used, as Kafka does. */
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** In the member's order of preference. */
  protocols: GroupProtocol[];
  /** JoinGroup v4+: a dynamic member without id gets MEMBER_ID_REQUIRED and a generated id first. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+ (KIP-814): a restarted static leader may be told to skip the assignment. */
  supportsSkipAssignment?: boolean;
  /** JoinGroup v8+ reason, informational only. */
  reason?: string | null;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  /** The member's metadata for the chosen protocol. */
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: GroupErrorCode;
  /** -1 on error. */
  generationId: number;
  /** null on error (JoinGroup < v7 cannot carry it; the front end drops it). */
  protocolType: string | null;
  /** null on error (write '' for JoinGroup < v7). */
  protocolName: string | null;
  /** '' on error. */
  leader: string;
  skipAssignment: boolean;
  /** The member id to use from now on (also set with MEMBER_ID_REQUIRED). */
  memberId: string;
  /** Only the leader gets the members (and a restarted static leader with skipAssignment). */
  members: JoinGroupMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+; null when the request version does not carry it. */
  protocolType: string | null;
  /** SyncGroup v5+; null when the request version does not carry it. */
  protocolName: string | null;
  /** Only the leader's assignments are used. */
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncResult {
  errorCode: GroupErrorCode;
  protocolType: string | null;
  protocolName: string | null;
  /** Empty on error. */
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface HeartbeatResult {
  errorCode: GroupErrorCode;
}

export interface LeavingMember {
  /** '' to remove a static member by its instance id alone (admin removal). */
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  /** LeaveGroup v0-2 carry one member: pass it here and use members[0].errorCode as the top-level code. */
  members: LeavingMember[];
}

export interface LeaveResult {
  /** Top-level error; when it is not NONE, `members` is empty. */
  errorCode: GroupErrorCode;
  members: { memberId: string; groupInstanceId: string | null; errorCode: GroupErrorCode }[];
}

export interface ListGroupsRequest {
  /** ListGroups v4+: state names, compared case-insensitively; empty or absent = all. */
  statesFilter?: string[];
  /** ListGroups v5+: group types, compared case-insensitively; empty or absent = all. */
  typesFilter?: string[];
}

export interface ListedGroup {
  groupId: string;
  /** '' for a group that never had a member (offsets only). */
  protocolType: string;
  groupState: GroupStateName;
  groupType: string;
}

export interface ListGroupsResult {
  errorCode: GroupErrorCode;
  groups: ListedGroup[];
}

export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Metadata for the chosen protocol; empty unless the group is Stable (as Kafka). */
  memberMetadata: Buffer;
  /** Current assignment; empty unless the group is Stable (as Kafka). */
  memberAssignment: Buffer;
}

export interface DescribedGroup {
  groupId: string;
  /**
   * GROUP_ID_NOT_FOUND for an unknown group (state 'Dead'). Kafka reports
   * that code only from DescribeGroups v6; the front end writes NONE below v6.
   */
  errorCode: GroupErrorCode;
  groupState: GroupStateName | '';
  protocolType: string;
  /** The chosen protocol when Stable, else ''. */
  protocolData: string;
  members: DescribedGroupMember[];
}

export interface DeleteGroupResult {
  groupId: string;
  errorCode: GroupErrorCode;
}

export interface OffsetCommitContext {
  groupId: string;
  /** '' for a simple (standalone) commit. */
  memberId: string;
  /** -1 for a simple (standalone) commit. */
  generationId: number;
  groupInstanceId: string | null;
}

export interface GroupMemberSnapshot {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: GroupProtocol[];
  /** null until the leader's SyncGroup (or after a failed one). */
  assignment: Buffer | null;
  awaitingJoin: boolean;
  awaitingSync: boolean;
  /** True until the member completed its first join phase. */
  isNew: boolean;
}

/** Full view of one group for the admin API and tests. */
export interface GroupSnapshot {
  groupId: string;
  state: GroupStateName;
  previousState: GroupStateName;
  stateTimestampMs: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  members: GroupMemberSnapshot[];
  pendingMemberIds: string[];
  pendingSyncMemberIds: string[];
  staticMembers: { groupInstanceId: string; memberId: string }[];
}
