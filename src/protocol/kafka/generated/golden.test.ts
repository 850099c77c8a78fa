// Hand-checked wire bytes for a few messages, the API table and the header rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDecodeError, KafkaEncodeError, Reader, Writer } from '../codec/index.ts';
import {
  APIS,
  API_BY_KEY,
  API_KEYS,
  REMOVED_API_KEYS,
  apiByKey,
  decodeApiVersionsRequest,
  decodeFetchResponse,
  decodeMetadataRequest,
  decodeProduceRequest,
  decodeRequestHeader,
  encodeApiVersionsRequest,
  encodeFetchResponse,
  encodeMetadataRequest,
  encodeProduceRequest,
  encodeRequestHeader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  writeResponseHeader,
  type FetchResponse,
} from './index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s).toString('hex');

function encoded(fn: (w: Writer) => void): Buffer {
  const w = new Writer();
  fn(w);
  return w.toBuffer();
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KafkaDecodeError || err instanceof KafkaEncodeError) return err.code;
    throw err;
  }
  return 'ok';
}

test('ApiVersionsRequest v3 (flexible) with request header v2 and client software name/version', () => {
  const frame = hex(`
    0012 0003 00000001            // apiKey 18, apiVersion 3, correlationId 1
    0007 ${ascii('rdkafka')}      // clientId: nullable string with int16 length, even in header v2
    00                            // header tagged fields
    0b ${ascii('librdkafka')}     // clientSoftwareName: compact string (10 + 1)
    07 ${ascii('2.15.0')}         // clientSoftwareVersion: compact string (6 + 1)
    00                            // body tagged fields
  `);
  const r = new Reader(frame);
  const header = readRequestHeader(r);
  assert.deepEqual(header, { requestApiKey: 18, requestApiVersion: 3, correlationId: 1, clientId: 'rdkafka' });
  const body = decodeApiVersionsRequest(r, 3);
  assert.deepEqual(body, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.15.0' });
  assert.equal(r.remaining, 0);

  const out = encoded((w) => {
    encodeRequestHeader(w, header, requestHeaderVersion(18, 3));
    encodeApiVersionsRequest(w, body, 3);
  });
  assert.deepEqual(out, frame);
  // a null clientId is int16 -1 in header v2 too
  assert.deepEqual(encoded((w) => encodeRequestHeader(w, { requestApiKey: 18, requestApiVersion: 3, correlationId: 2, clientId: null }, 2)),
    hex('0012 0003 00000002 ffff 00'));
  assert.equal(decodeRequestHeader(new Reader(hex('0012 0003 00000002 ffff 00')), 2).clientId, null);
});

test('MetadataRequest v1 (non-flexible): topics array, null = all topics, defaults for absent fields', () => {
  const bytes = hex(`00000001 0006 ${ascii('orders')}`);
  const msg = decodeMetadataRequest(new Reader(bytes), 1);
  assert.deepEqual(msg, {
    topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'orders' }],
    allowAutoTopicCreation: true, // absent before v4: its default
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.deepEqual(encoded((w) => encodeMetadataRequest(w, { topics: [{ name: 'orders' }] }, 1)), bytes);
  assert.deepEqual(encoded((w) => encodeMetadataRequest(w, { topics: null }, 1)), hex('ffffffff'));
  assert.equal(decodeMetadataRequest(new Reader(hex('ffffffff')), 1).topics, null);
  // null topics is not allowed at v0
  assert.equal(codeOf(() => decodeMetadataRequest(new Reader(hex('ffffffff')), 0)), 'NULL_NOT_ALLOWED');
  assert.equal(codeOf(() => encodeMetadataRequest(new Writer(), { topics: null }, 0)), 'NULL_NOT_ALLOWED');
  // allowAutoTopicCreation=false cannot be expressed before v4 and is not ignorable
  assert.equal(codeOf(() => encodeMetadataRequest(new Writer(), { topics: [], allowAutoTopicCreation: false }, 3)), 'NON_IGNORABLE_FIELD');
  assert.equal(codeOf(() => encodeMetadataRequest(new Writer(), { topics: [], allowAutoTopicCreation: true }, 3)), 'ok');
  assert.equal(codeOf(() => decodeMetadataRequest(new Reader(bytes), 14)), 'UNSUPPORTED_VERSION');
  assert.equal(codeOf(() => encodeMetadataRequest(new Writer(), {}, -1)), 'UNSUPPORTED_VERSION');
});

test('ProduceRequest v3 carrying a records blob: decoded as a view, encoded by reference', () => {
  const records = Buffer.alloc(1100);
  for (let i = 0; i < records.length; i++) records[i] = (i * 7) & 0xff;
  const head = hex(`
    ffff                          // transactionalId null
    ffff                          // acks -1
    00007530                      // timeoutMs 30000
    00000001                      // topicData: 1 topic
    0006 ${ascii('orders')}
    00000001                      // partitionData: 1 partition
    00000000                      // index 0
    0000044c                      // records length 1100
  `);
  // the message sits inside a larger frame buffer, as it does on a socket
  const frame = Buffer.concat([hex('deadbeef'), head, records, hex('cafe')]);
  const r = new Reader(frame, 4, frame.length - 2);
  const msg = decodeProduceRequest(r, 3);
  assert.equal(r.remaining, 0);
  assert.equal(msg.transactionalId, null);
  assert.equal(msg.acks, -1);
  assert.equal(msg.timeoutMs, 30000);
  assert.equal(msg.topicData.length, 1);
  assert.equal(msg.topicData[0]!.name, 'orders');
  const got = msg.topicData[0]!.partitionData[0]!.records!;
  assert.deepEqual(got, records);
  assert.equal(got.buffer, frame.buffer, 'records is a view of the input, not a copy');
  assert.equal(got.byteOffset, frame.byteOffset + 4 + head.length);

  const w = new Writer();
  encodeProduceRequest(w, msg, 3);
  const { chunks, length } = w.finish();
  assert.equal(length, head.length + records.length);
  assert.ok(chunks.includes(got), 'the records view is written by reference');
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat([head, records]));

  // ProduceRequest v12 drops the (ignorable) topicId; v13 drops the (ignorable) name
  const both = { acks: 1, topicData: [{ name: 't', topicId: '01234567-89ab-cdef-0123-456789abcdef', partitionData: [] }] };
  assert.equal(decodeProduceRequest(new Reader(encoded((w2) => encodeProduceRequest(w2, both, 12))), 12).topicData[0]!.topicId,
    '00000000-0000-0000-0000-000000000000');
  assert.equal(decodeProduceRequest(new Reader(encoded((w2) => encodeProduceRequest(w2, both, 13))), 13).topicData[0]!.name, '');
});

const fetchV11 = hex(`
  00000000                        // throttleTimeMs
  0000                            // errorCode
  00000000                        // sessionId
  00000001                        // responses: 1 topic
  0006 ${ascii('orders')}
  00000001                        // partitions: 1
  00000000                        // partitionIndex
  0000                            // errorCode
  000000000000000a                // highWatermark 10
  000000000000000a                // lastStableOffset 10
  0000000000000000                // logStartOffset 0
  ffffffff                        // abortedTransactions null
  ffffffff                        // preferredReadReplica -1
  00000005 ${ascii('hello')}      // records
`);

const fetchV12 = hex(`
  00000000 0000 00000000          // throttleTimeMs, errorCode, sessionId
  02                              // responses: compact array, 1 topic
  07 ${ascii('orders')}           // topic: compact string
  02                              // partitions: 1
  00000000 0000                   // partitionIndex, errorCode
  000000000000000a                // highWatermark 10
  000000000000000a                // lastStableOffset 10
  0000000000000000                // logStartOffset 0
  00                              // abortedTransactions null (compact)
  ffffffff                        // preferredReadReplica -1
  06 ${ascii('hello')}            // records: compact bytes
  01                              // partition tagged fields: 1
  01 09 00000001 00000005 00      //   tag 1 currentLeader, size 9: leaderId 1, leaderEpoch 5, its own tagged fields
  00                              // topic tagged fields
  00                              // response tagged fields
`);

function fetchSample(): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topic: 'orders',
      topicId: '00000000-0000-0000-0000-000000000000',
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 10,
        lastStableOffset: 10,
        logStartOffset: 0,
        divergingEpoch: { epoch: -1, endOffset: -1 },
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1, epoch: -1 },
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: Buffer.from('hello'),
      }],
    }],
    nodeEndpoints: [],
  };
}

test('FetchResponse v11 (non-flexible)', () => {
  const msg = fetchSample();
  assert.deepEqual(encoded((w) => encodeFetchResponse(w, msg, 11)), fetchV11);
  const back = decodeFetchResponse(new Reader(fetchV11), 11);
  assert.deepEqual(back, msg);
  assert.equal(back.responses[0]!.partitions[0]!.records!.buffer, fetchV11.buffer);
  // the tagged currentLeader does not exist before v12 and is not ignorable
  const withLeader = fetchSample();
  withLeader.responses[0]!.partitions[0]!.currentLeader = { leaderId: 1, leaderEpoch: 5 };
  assert.equal(codeOf(() => encodeFetchResponse(new Writer(), withLeader, 11)), 'NON_IGNORABLE_FIELD');
});

test('FetchResponse v12 (flexible, tagged currentLeader)', () => {
  const msg = fetchSample();
  msg.responses[0]!.partitions[0]!.currentLeader = { leaderId: 1, leaderEpoch: 5 };
  assert.deepEqual(encoded((w) => encodeFetchResponse(w, msg, 12)), fetchV12);
  assert.deepEqual(decodeFetchResponse(new Reader(fetchV12), 12), msg);
  // an unknown tag (9) is skipped
  const withUnknown = Buffer.from(fetchV12);
  const at = withUnknown.indexOf(hex('01 01 09'), 30);
  const patched = Buffer.concat([withUnknown.subarray(0, at), hex('02 01 09 00000001 00000005 00 09 02 abcd'), withUnknown.subarray(at + 12)]);
  assert.deepEqual(decodeFetchResponse(new Reader(patched), 12), msg);
  // a known tag whose size disagrees with its content
  const bad = Buffer.from(fetchV12);
  bad[bad.indexOf(hex('01 01 09'), 30) + 2] = 0x0a;
  assert.equal(codeOf(() => decodeFetchResponse(new Reader(Buffer.concat([bad, hex('00')])), 12)), 'INVALID_TAGGED_FIELD');
  // an offset that does not fit a double exactly
  const unsafe = Buffer.from(fetchV12);
  unsafe.writeBigInt64BE(2n ** 60n, unsafe.indexOf(hex('000000000000000a')));
  assert.equal(codeOf(() => decodeFetchResponse(new Reader(unsafe), 12)), 'UNSAFE_INT64');
});

test('API table: lookup by key, versions, flexible versions, removed keys', () => {
  assert.equal(Object.keys(APIS).length, 89);
  assert.equal(APIS.Produce.apiKey, 0);
  assert.equal(API_KEYS.ApiVersions, 18);
  assert.equal(apiByKey(18), APIS.ApiVersions);
  assert.equal(API_BY_KEY[1]!.name, 'Fetch');
  const fetch = apiByKey(1)!;
  assert.deepEqual([fetch.minVersion, fetch.maxVersion, fetch.flexibleVersion], [4, 18, 12]);
  assert.deepEqual([APIS.Produce.minVersion, APIS.Produce.maxVersion, APIS.Produce.flexibleVersion], [3, 13, 9]);
  assert.equal(APIS.SaslHandshake.flexibleVersion, null);
  assert.equal(APIS.InitProducerId.latestVersionUnstable, true);
  assert.equal(APIS.Produce.latestVersionUnstable, false);
  assert.ok(APIS.Vote.listeners.includes('controller') && !APIS.Vote.listeners.includes('broker'));
  for (const k of [4, 5, 6, 7]) {
    assert.equal(apiByKey(k), undefined);
    assert.ok(REMOVED_API_KEYS[k]);
  }
  assert.equal(apiByKey(-1), undefined);
  assert.equal(apiByKey(1000), undefined);
  assert.equal(apiByKey(1.5), undefined);
  // typed codecs through the table
  const req = APIS.Metadata.decodeRequest(new Reader(hex('ffffffff')), 1);
  assert.equal(req.topics, null);
});

test('header versions: flexible → request v2 / response v1; ApiVersions responses always v0', () => {
  assert.equal(requestHeaderVersion(0, 8), 1);
  assert.equal(requestHeaderVersion(0, 9), 2);
  assert.equal(requestHeaderVersion(18, 2), 1);
  assert.equal(requestHeaderVersion(18, 3), 2);
  assert.equal(requestHeaderVersion(18, 7), 2, 'a newer ApiVersions request is parsed by the flexible rule');
  assert.equal(requestHeaderVersion(17, 1), 1, 'SaslHandshake is never flexible');
  assert.equal(requestHeaderVersion(4, 0), -1);
  assert.equal(responseHeaderVersion(3, 8), 0);
  assert.equal(responseHeaderVersion(3, 9), 1);
  assert.equal(responseHeaderVersion(18, 3), 0);
  assert.equal(responseHeaderVersion(18, 4), 0);
  assert.equal(responseHeaderVersion(999, 0), -1);
  assert.deepEqual(encoded((w) => writeResponseHeader(w, 3, 12, 7)), hex('00000007 00'));
  assert.deepEqual(encoded((w) => writeResponseHeader(w, 18, 4, 7)), hex('00000007'));
  // unknown api key: header read as v1 so it can be logged
  const h = readRequestHeader(new Reader(hex('03e7 0000 00000009 0002 6869')));
  assert.deepEqual(h, { requestApiKey: 999, requestApiVersion: 0, correlationId: 9, clientId: 'hi' });
  assert.equal(codeOf(() => readRequestHeader(new Reader(hex('0012')))), 'TRUNCATED');
});

test('a whole response frame: size prefix, header v1, body, large records by reference', () => {
  const records = Buffer.alloc(4096, 9);
  const body = fetchSample();
  body.responses[0]!.partitions[0]!.records = records;
  const w = new Writer();
  const at = w.reserve(4);
  writeResponseHeader(w, 1, 12, 42);
  APIS.Fetch.encodeResponse(w, body, 12);
  w.patchInt32(at, w.length - 4);
  const { chunks, length } = w.finish();
  assert.ok(chunks.includes(records));
  const frame = Buffer.concat(chunks);
  assert.equal(frame.length, length);
  assert.equal(frame.readInt32BE(0), length - 4);
  const r = new Reader(frame, 4);
  assert.equal(r.int32(), 42);
  r.skipTaggedFields();
  const back = APIS.Fetch.decodeResponse(r, 12);
  assert.deepEqual(back.responses[0]!.partitions[0]!.records, records);
  assert.equal(r.remaining, 0);
});
