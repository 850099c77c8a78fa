// Broker-wide admin codes — rocketmq-remoting.md §3.1, §3.4:
//
// GET_BROKER_RUNTIME_INFO (28, mqadmin clusterList / brokerStatus): a KVTable
// `{"table":{…}}` with the keys a Java 5.3.3 broker fills
// (AdminBrokerProcessor.prepareRuntimeInfo + StoreStatsService) — the ones
// clusterList parses with Double/Long/Boolean among them — each honest: what
// Diglot measures is reported (boot time, uptime, records and bytes appended
// since start, earliest stored message time, disk use of the data directory),
// what it does not measure (TPS samples, thread-pool queues, page-cache lock,
// timer wheel, daily put/get totals) is 0 / "0.0 0.0 0.0". Both spellings of
// the transfer rate key are sent: `getTransferredTps` (5.x) and
// `getTransferedTps` (4.x tools).
//
// GET_BROKER_CONFIG (26, mqadmin getBrokerConfig): Java-properties text of
// the settings Diglot actually runs with, under their Java broker names; ext
// `version` = a DataVersion JSON. UPDATE_BROKER_CONFIG (25): refused with 1
// SYSTEM_ERROR — Diglot's settings come from its command line and config
// file and are not changeable at run time.
//
// WIPE_WRITE_PERM_OF_BROKER (205) / ADD_WRITE_PERM_OF_BROKER (327, name
// server, mqadmin wipeWritePerm/addWritePerm): Diglot topics are always
// writable, so nothing changes: 0 with wipeTopicCount / addTopicCount 0 and
// a remark saying why.

import fs from 'node:fs';
import { RequestCode, ResponseCode, SERVER_VERSION } from '../../protocol/rocketmq/index.ts';
import { dataVersion, javaProperties } from '../admin-bodies.ts';
import type { RocketmqState } from '../state.ts';
import { BASE_TIMESTAMP, readInt64 } from '../../storage/record-batch.ts';
import { json, requireString, type RocketmqHandler } from './types.ts';

/** MQVersion.getVersionDesc(479). */
export const BROKER_VERSION_DESC = 'V5_3_3';
/** Partitions looked at for the earliest message time (bounded work per request: one batch read each). */
const EARLIEST_SCAN_PARTITIONS_MAX = 1024;

/** Store time of the oldest message still held in any RocketMQ-visible queue, or -1 (Java's answer for an empty store). */
export function earliestMessageTime(state: RocketmqState): number {
  let earliest = Number.POSITIVE_INFINITY;
  let scanned = 0;
  for (const topic of state.broker.topics.list()) {
    if (topic.internal) continue;
    for (let q = 0; q < topic.partitions; q++) {
      if (++scanned > EARLIEST_SCAN_PARTITIONS_MAX) return Number.isFinite(earliest) ? earliest : -1;
      const log = state.broker.topics.partitionLog(topic, q);
      if (log.logEndOffset <= log.logStartOffset) continue;
      // The first batch's base timestamp (the header field; no record decoding).
      let bytes: Buffer;
      try {
        bytes = log.read(log.logStartOffset, 1).bytes;
      } catch {
        continue; // deleted or truncated meanwhile
      }
      if (bytes.length < BASE_TIMESTAMP + 8) continue;
      const ts = readInt64(bytes, BASE_TIMESTAMP);
      if (ts >= 0 && ts < earliest) earliest = ts;
    }
  }
  return Number.isFinite(earliest) ? earliest : -1;
}

function humanBytes(bytes: number): string {
  // MixAll.humanReadableByteCount(bytes, si=false)
  if (bytes < 1024) return `${bytes} B`;
  const exp = Math.min(6, Math.floor(Math.log(bytes) / Math.log(1024)));
  return `${(bytes / 1024 ** exp).toFixed(1)} ${'KMGTPE'[exp - 1]}iB`;
}

function formatRuntime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor(s / 3600) % 24} hours, ${Math.floor(s / 60) % 60} minutes, ${s % 60} seconds ]`;
}

export function runtimeInfo(state: RocketmqState): Record<string, string> {
  const now = state.nowMs();
  const stats = state.broker.logManager.stats;
  const table: Record<string, string> = {
    bootTimestamp: String(state.startedMs),
    runtime: formatRuntime(now - state.startedMs),
    brokerActive: 'true',
    brokerVersionDesc: BROKER_VERSION_DESC,
    brokerVersion: String(SERVER_VERSION),
    // Every record appended since start, RocketMQ's and Kafka's (internal logs included).
    putMessageTimesTotal: String(stats.appendedRecords),
    putMessageSizeTotal: String(stats.appendedBytes),
    putMessageAverageSize: String(stats.appendedRecords > 0 ? stats.appendedBytes / stats.appendedRecords : 0),
    putMessageFailedTimes: '0',
    putMessageEntireTimeMax: '0',
    getMessageEntireTimeMax: '0',
    dispatchMaxBuffer: '0',
    putTps: '0.0 0.0 0.0',
    getFoundTps: '0.0 0.0 0.0',
    getMissTps: '0.0 0.0 0.0',
    getTotalTps: '0.0 0.0 0.0',
    getTransferredTps: '0.0 0.0 0.0',
    getTransferedTps: '0.0 0.0 0.0',
    putLatency99: '0.00',
    putLatency999: '0.00',
    msgPutTotalYesterdayMorning: '0',
    msgPutTotalTodayMorning: '0',
    msgPutTotalTodayNow: '0',
    msgGetTotalYesterdayMorning: '0',
    msgGetTotalTodayMorning: '0',
    msgGetTotalTodayNow: '0',
    dispatchBehindBytes: '0',
    pageCacheLockTimeMills: '0',
    earliestMessageTimeStamp: String(earliestMessageTime(state)),
    startAcceptSendRequestTimeStamp: '0',
    timerReadBehind: '0',
    timerOffsetBehind: '0',
    timerCongestNum: '0',
    timerEnqueueTps: '0.0',
    timerDequeueTps: '0.0',
    // No transient store pool: Java reports Integer.MAX_VALUE then.
    remainTransientStoreBufferNumbs: '2147483647',
    remainHowManyDataToFlush: '0 B',
    sendThreadPoolQueueSize: '0',
    pullThreadPoolQueueSize: '0',
    litePullThreadPoolQueueSize: '0',
    queryThreadPoolQueueSize: '0',
    ackThreadPoolQueueSize: '0',
    sendThreadPoolQueueHeadWaitTimeMills: '0',
    pullThreadPoolQueueHeadWaitTimeMills: '0',
    queryThreadPoolQueueHeadWaitTimeMills: '0',
    litePullThreadPoolQueueHeadWaitTimeMills: '0',
    ackThreadPoolQueueHeadWaitTimeMills: '0',
    EndTransactionQueueSize: '0',
  };
  const dir = state.broker.logManager.dir;
  try {
    const s = fs.statfsSync(dir);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    const used = s.blocks > 0 ? (s.blocks - s.bfree) / s.blocks : 0;
    table['commitLogDiskRatio'] = String(used);
    table[`commitLogDiskRatio_${dir}`] = String(used);
    table['consumeQueueDiskRatio'] = String(used);
    table['commitLogDirCapacity'] = `Total : ${humanBytes(total)}, Free : ${humanBytes(free)}.`;
  } catch {
    table['commitLogDiskRatio'] = '-1.0';
  }
  return table;
}

export const getBrokerRuntimeInfo: RocketmqHandler = {
  codes: [RequestCode.GET_BROKER_RUNTIME_INFO],
  name: 'GET_BROKER_RUNTIME_INFO',
  handle(ctx) {
    return { code: ResponseCode.SUCCESS, body: json({ table: runtimeInfo(ctx.state) }) };
  },
};

/** The settings Diglot runs with, under the Java broker's property names. */
export function brokerConfig(state: RocketmqState): Array<[string, string]> {
  const [host, port] = splitHostPort(state.advertisedAddress);
  const storage = state.broker.logManager.config;
  return [
    ['brokerClusterName', state.clusterName],
    ['brokerName', state.brokerName],
    ['brokerId', '0'],
    ['brokerRole', 'ASYNC_MASTER'],
    ['brokerIP1', host],
    ['listenPort', port],
    ['namesrvAddr', state.advertisedAddress],
    ['brokerPermission', '6'],
    ['autoCreateTopicEnable', String(state.broker.config.autoCreateTopics)],
    ['autoCreateSubscriptionGroup', 'true'],
    ['defaultTopicQueueNums', String(state.defaultQueues)],
    ['maxMessageSize', String(state.broker.config.maxMessageBytes)],
    ['enablePropertyFilter', 'true'],
    ['flushDiskType', storage.flushMode === 'always' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH'],
    ['flushIntervalCommitLog', String(storage.flushIntervalMs)],
    ['storePathRootDir', state.broker.logManager.dir],
    ['mappedFileSizeCommitLog', String(storage.segmentBytesMax)],
    ['fileReservedTime', String(storage.retentionMs < 0 ? -1 : Math.round(storage.retentionMs / 3_600_000))],
  ];
}

function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, ''] : [address.slice(0, i), address.slice(i + 1)];
}

export const getBrokerConfig: RocketmqHandler = {
  codes: [RequestCode.GET_BROKER_CONFIG],
  name: 'GET_BROKER_CONFIG',
  handle(ctx) {
    return {
      code: ResponseCode.SUCCESS,
      extFields: { version: JSON.stringify(dataVersion(ctx.state, 0)) },
      body: Buffer.from(javaProperties(brokerConfig(ctx.state)), 'utf8'),
    };
  },
};

export const updateBrokerConfig: RocketmqHandler = {
  codes: [RequestCode.UPDATE_BROKER_CONFIG],
  name: 'UPDATE_BROKER_CONFIG',
  handle() {
    return { code: ResponseCode.SYSTEM_ERROR, remark: 'UPDATE_BROKER_CONFIG is not supported: Diglot settings come from its command line and config file and cannot be changed at run time' };
  },
};

export const wipeWritePermOfBroker: RocketmqHandler = {
  codes: [RequestCode.WIPE_WRITE_PERM_OF_BROKER],
  name: 'WIPE_WRITE_PERM_OF_BROKER',
  handle(_ctx, request) {
    requireString(request, 'brokerName');
    return { code: ResponseCode.SUCCESS, remark: 'write permission is not switchable in Diglot: no topic changed', extFields: { wipeTopicCount: '0' } };
  },
};

export const addWritePermOfBroker: RocketmqHandler = {
  codes: [RequestCode.ADD_WRITE_PERM_OF_BROKER],
  name: 'ADD_WRITE_PERM_OF_BROKER',
  handle(_ctx, request) {
    requireString(request, 'brokerName');
    return { code: ResponseCode.SUCCESS, remark: 'write permission is not switchable in Diglot: topics are always writable', extFields: { addTopicCount: '0' } };
  },
};
