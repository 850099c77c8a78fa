// UPDATE_AND_CREATE_TOPIC (17) and UPDATE_AND_CREATE_TOPIC_LIST (18) —
// rocketmq-remoting.md §3.4 (mqadmin updateTopic / updateTopicList).
//
// A RocketMQ topic is a Diglot topic whose queues are its partitions
// (DESIGN.md §2), so one number stands for both readQueueNums and
// writeQueueNums: a new topic gets max(read, write) queues; an existing one
// with fewer gets partitions added; one with more is left unchanged — like a
// Kafka topic, a Diglot topic cannot shrink (a Java broker would just
// overwrite its config). The success reply says so in its remark. perm,
// topicFilterType, topicSysFlag and attributes are not stored: routes always
// advertise perm 6 and tag filtering works per message; `order` is what the
// name server's ORDER_TOPIC_CONFIG KV says (mqadmin puts it there for -o true).
// Names follow Java's TopicValidator: `^[%|a-zA-Z0-9_-]+$`, ≤ 127 characters,
// not a system topic → else 29 INVALID_PARAMETER with the reason.

import { BrokerError } from '../../broker/errors.ts';
import { PARTITIONS_MAX } from '../../broker/topics.ts';
import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { rocketmqCode } from '../error-codes.ts';
import { AUTO_CREATE_TOPIC, FORBIDDEN_SEND_TOPICS, rocketmqTopicNameProblem, type RocketmqState } from '../state.ts';
import { jsonObjectBody, optionalInt, requireInt, requireString, type Reply, type RocketmqHandler } from './types.ts';

/** Why `name` may not be created or deleted through the admin codes, or null. */
export function adminTopicProblem(name: string): string | null {
  if (name.trim() === '') return 'The specified topic is blank.';
  const problem = rocketmqTopicNameProblem(name);
  if (problem !== null) return `The specified topic[${name}] is not legal: ${problem}`;
  if (name === AUTO_CREATE_TOPIC || FORBIDDEN_SEND_TOPICS.has(name) || name.startsWith('rmq_sys_')) return `The topic[${name}] is conflict with system topic.`;
  if (name.startsWith('__')) return `The topic[${name}] is conflict with Diglot's internal topics (names starting with __).`;
  return null;
}

export interface TopicRequest {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

function queuesProblem(t: TopicRequest): string | null {
  const queues = Math.max(t.readQueueNums, t.writeQueueNums);
  if (!Number.isInteger(queues) || queues < 1 || queues > PARTITIONS_MAX) return `topic[${t.topicName}]: queue numbers must be in [1, ${PARTITIONS_MAX}], got read ${t.readQueueNums} write ${t.writeQueueNums}`;
  return null;
}

/** Creates the topic or raises its queue count; returns a note for the remark, or null. */
export async function applyTopic(state: RocketmqState, t: TopicRequest): Promise<string | null> {
  const wanted = Math.max(t.readQueueNums, t.writeQueueNums);
  const notes: string[] = [];
  if (t.perm !== 6) notes.push(`perm ${t.perm} not applied: Diglot topics are always readable and writable (perm 6)`);
  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = state.broker.topics.get(t.topicName);
    if (existing === undefined) {
      try {
        await state.broker.topics.create(t.topicName, wanted, new Map());
        return notes.length > 0 ? notes.join('; ') : null;
      } catch (err) {
        if (err instanceof BrokerError && err.code === 'TOPIC_ALREADY_EXISTS') continue; // created meanwhile
        throw err;
      }
    }
    if (existing.partitions < wanted) {
      try {
        await state.broker.topics.addPartitions(t.topicName, wanted);
      } catch (err) {
        // Raised meanwhile to at least as many: fine.
        if (!(err instanceof BrokerError && err.code === 'INVALID_PARTITIONS' && (state.broker.topics.get(t.topicName)?.partitions ?? 0) >= wanted)) throw err;
      }
    } else if (existing.partitions > wanted) {
      notes.push(`topic ${t.topicName} keeps its ${existing.partitions} queues: queues cannot be removed (asked for ${wanted})`);
    }
    return notes.length > 0 ? notes.join('; ') : null;
  }
  return notes.length > 0 ? notes.join('; ') : null;
}

function brokerErrorReply(err: unknown): Reply {
  if (err instanceof BrokerError) return { code: rocketmqCode(err.code), remark: err.message };
  throw err;
}

export const updateAndCreateTopic: RocketmqHandler = {
  codes: [RequestCode.UPDATE_AND_CREATE_TOPIC],
  name: 'UPDATE_AND_CREATE_TOPIC',
  async handle(ctx, request) {
    const t: TopicRequest = {
      topicName: requireString(request, 'topic'),
      readQueueNums: requireInt(request, 'readQueueNums'),
      writeQueueNums: requireInt(request, 'writeQueueNums'),
      perm: optionalInt(request, 'perm', 6),
    };
    const problem = adminTopicProblem(t.topicName) ?? queuesProblem(t);
    if (problem !== null) return { code: ResponseCode.INVALID_PARAMETER, remark: problem };
    try {
      const note = await applyTopic(ctx.state, t);
      ctx.logger.info({ topic: t.topicName, queues: ctx.state.broker.topics.get(t.topicName)?.partitions }, 'rocketmq admin updated topic');
      return { code: ResponseCode.SUCCESS, remark: note };
    } catch (err) {
      return brokerErrorReply(err);
    }
  },
};

interface TopicConfigBody {
  topicName?: unknown;
  readQueueNums?: unknown;
  writeQueueNums?: unknown;
  perm?: unknown;
}

export const updateAndCreateTopicList: RocketmqHandler = {
  codes: [RequestCode.UPDATE_AND_CREATE_TOPIC_LIST],
  name: 'UPDATE_AND_CREATE_TOPIC_LIST',
  async handle(ctx, request) {
    const body = jsonObjectBody<{ topicConfigList?: unknown }>(request, 'UPDATE_AND_CREATE_TOPIC_LIST');
    if (!Array.isArray(body.topicConfigList)) return { code: ResponseCode.INVALID_PARAMETER, remark: 'body needs a topicConfigList array' };
    const list: TopicRequest[] = [];
    // Java validates every entry before changing anything.
    for (const raw of body.topicConfigList as TopicConfigBody[]) {
      const name = typeof raw?.topicName === 'string' ? raw.topicName : '';
      // A TopicConfig left at Java's defaults has 16 queues and perm 6.
      const t: TopicRequest = {
        topicName: name,
        readQueueNums: raw?.readQueueNums === undefined ? 16 : Number(raw.readQueueNums),
        writeQueueNums: raw?.writeQueueNums === undefined ? 16 : Number(raw.writeQueueNums),
        perm: raw?.perm === undefined ? 6 : Number(raw.perm),
      };
      const problem = adminTopicProblem(name) ?? queuesProblem(t);
      if (problem !== null) return { code: ResponseCode.INVALID_PARAMETER, remark: problem };
      list.push(t);
    }
    const notes: string[] = [];
    try {
      for (const t of list) {
        const note = await applyTopic(ctx.state, t);
        if (note !== null) notes.push(note);
      }
    } catch (err) {
      return brokerErrorReply(err);
    }
    ctx.logger.info({ topics: list.map((t) => t.topicName) }, 'rocketmq admin updated topics');
    return { code: ResponseCode.SUCCESS, remark: notes.length > 0 ? notes.join('; ') : null };
  },
};
