// CONSUMER_SEND_MSG_BACK (36) — rocketmq-remoting.md §10.2: a message the
// consumer failed goes to `%RETRY%<group>` with reconsumeTimes + 1, or to
// `%DLQ%<group>` once reconsumeTimes reaches maxReconsumeTimes (or when
// delayLevel < 0). RETRY_TOPIC and ORIGIN_MESSAGE_ID are added when absent.
// The retry is held by the delay service for its level (the request's, or
// 3 + reconsumeTimes when it asks 0: 10 s, 30 s, 1 min, ...) and reaches the
// retry topic with REAL_TOPIC / REAL_QID, as through SCHEDULE_TOPIC_XXXX.

import { fromRecord, toRecord } from '../../broker/rocketmq-mapping.ts';
import { Prop, RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { buildRecordBatch } from '../../storage/records.ts';
import { delayOfLevel } from '../../delay/levels.ts';
import { DelayError } from '../../delay/service.ts';
import { rocketmqCode } from '../error-codes.ts';
import { findByCommitLogOffset } from '../lookup.ts';
import { messageIdOf } from '../messages.ts';
import { DLQ_PREFIX, RETRY_PREFIX } from '../state.ts';
import { optionalInt, optionalString, requireInt, requireString, type RocketmqHandler } from './types.ts';

export const consumerSendMsgBack: RocketmqHandler = {
  codes: [RequestCode.CONSUMER_SEND_MSG_BACK],
  name: 'CONSUMER_SEND_MSG_BACK',
  async handle(ctx, request) {
    const state = ctx.state;
    const offset = requireString(request, 'offset');
    const group = requireString(request, 'group');
    const delayLevel = requireInt(request, 'delayLevel');
    const found = findByCommitLogOffset(state, offset);
    if (found === undefined) return { code: ResponseCode.SYSTEM_ERROR, remark: `look message by offset failed, ${offset}` };
    const original = fromRecord(found.record);
    const groupConfig = state.subscriptionGroup(group);
    const maxReconsumeTimes = optionalInt(request, 'maxReconsumeTimes', groupConfig.retryMaxTimes);
    const toDlq = original.reconsumeTimes >= maxReconsumeTimes || delayLevel < 0;
    const targetName = (toDlq ? DLQ_PREFIX : RETRY_PREFIX) + group;
    const target = await state.ensureTopic(targetName, 1, true);
    if (target === undefined) return { code: ResponseCode.SYSTEM_ERROR, remark: `topic[${targetName}] could not be created` };
    const properties = original.properties.filter(([k]) => k !== Prop.DELAY && k !== Prop.REAL_TOPIC && k !== Prop.REAL_QID);
    const originTopic = optionalString(request, 'originTopic') ?? found.topic.name;
    if (!properties.some(([k]) => k === Prop.RETRY_TOPIC)) properties.push([Prop.RETRY_TOPIC, originTopic]);
    if (!properties.some(([k]) => k === Prop.ORIGIN_MESSAGE_ID)) {
      properties.push([Prop.ORIGIN_MESSAGE_ID, optionalString(request, 'originMsgId') ?? messageIdOf(state.storeHost, found.topic, found.queueId, found.record.offset)]);
    }
    const queueId = Math.floor(Math.random() * target.partitions);
    if (!toDlq) {
      properties.push([Prop.REAL_TOPIC, targetName], [Prop.REAL_QID, String(queueId)]);
    }
    const record = toRecord({
      body: original.body,
      properties,
      flag: original.flag,
      bornTimestampMs: found.record.timestampMs,
      reconsumeTimes: original.reconsumeTimes + 1,
    });
    if (!toDlq) {
      const level = delayLevel === 0 ? 3 + original.reconsumeTimes : delayLevel;
      try {
        const scheduled = state.broker.delays.schedule([
          { topic: targetName, partition: queueId, key: record.key, value: record.value, headers: record.headers, timestampMs: record.timestampMs, deliverAtMs: state.nowMs() + delayOfLevel(state.broker.delayLevelsMs, level), repeat: null },
        ]);
        if (state.broker.logManager.config.flushMode === 'always') await scheduled.durable();
      } catch (err) {
        if (err instanceof DelayError) return { code: ResponseCode.SYSTEM_ERROR, remark: err.message };
        throw err;
      }
      return { code: ResponseCode.SUCCESS };
    }
    const outcome = state.broker.appendBatch(target, queueId, buildRecordBatch([record]));
    if (outcome.errorCode !== 'NONE') return { code: rocketmqCode(outcome.errorCode), remark: outcome.errorMessage ?? outcome.errorCode };
    if (outcome.log !== null && state.broker.logManager.config.flushMode === 'always') await outcome.log.durable(outcome.nextOffset);
    return { code: ResponseCode.SUCCESS };
  },
};
