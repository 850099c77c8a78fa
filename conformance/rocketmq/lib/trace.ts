// --trace-codes: a recording TCP proxy in front of the target's RocketMQ ports, so a run can list which request
// codes (and response codes) each client × scenario used. One listener per upstream port (Apache RocketMQ: name
// server and broker; Diglot: its one port). The broker addresses inside GET_ROUTEINFO_BY_TOPIC (105) and
// GET_BROKER_CLUSTER_INFO (106) responses are rewritten to the proxy's, so clients send their broker traffic through
// it too. Not seen: VIEW_MESSAGE_BY_ID (33) and anything else addressed with the store host decoded from an
// offsetMsgId, which goes to the real broker port directly.
import fs from 'node:fs';
import net from 'node:net';

export const CODE_NAMES: Record<number, string> = {
  10: 'SEND_MESSAGE', 11: 'PULL_MESSAGE', 12: 'QUERY_MESSAGE', 14: 'QUERY_CONSUMER_OFFSET', 15: 'UPDATE_CONSUMER_OFFSET',
  17: 'UPDATE_AND_CREATE_TOPIC', 18: 'UPDATE_AND_CREATE_TOPIC_LIST', 21: 'GET_ALL_TOPIC_CONFIG', 25: 'UPDATE_BROKER_CONFIG',
  26: 'GET_BROKER_CONFIG', 28: 'GET_BROKER_RUNTIME_INFO', 29: 'SEARCH_OFFSET_BY_TIMESTAMP', 30: 'GET_MAX_OFFSET',
  31: 'GET_MIN_OFFSET', 32: 'GET_EARLIEST_MSG_STORETIME', 33: 'VIEW_MESSAGE_BY_ID', 34: 'HEART_BEAT', 35: 'UNREGISTER_CLIENT',
  36: 'CONSUMER_SEND_MSG_BACK', 37: 'END_TRANSACTION', 38: 'GET_CONSUMER_LIST_BY_GROUP', 39: 'CHECK_TRANSACTION_STATE',
  40: 'NOTIFY_CONSUMER_IDS_CHANGED', 41: 'LOCK_BATCH_MQ', 42: 'UNLOCK_BATCH_MQ', 46: 'CHECK_CLIENT_CONFIG',
  100: 'PUT_KV_CONFIG', 101: 'GET_KV_CONFIG', 102: 'DELETE_KV_CONFIG', 103: 'REGISTER_BROKER', 104: 'UNREGISTER_BROKER',
  105: 'GET_ROUTEINFO_BY_TOPIC', 106: 'GET_BROKER_CLUSTER_INFO', 200: 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP',
  201: 'GET_ALL_SUBSCRIPTIONGROUP_CONFIG', 202: 'GET_TOPIC_STATS_INFO', 203: 'GET_CONSUMER_CONNECTION_LIST',
  204: 'GET_PRODUCER_CONNECTION_LIST', 205: 'WIPE_WRITE_PERM_OF_BROKER', 206: 'GET_ALL_TOPIC_LIST_FROM_NAMESERVER',
  207: 'DELETE_SUBSCRIPTIONGROUP', 208: 'GET_CONSUME_STATS', 215: 'DELETE_TOPIC_IN_BROKER', 216: 'DELETE_TOPIC_IN_NAMESRV',
  219: 'GET_KVLIST_BY_NAMESPACE', 220: 'RESET_CONSUMER_CLIENT_OFFSET', 221: 'GET_CONSUMER_STATUS_FROM_CLIENT',
  222: 'INVOKE_BROKER_TO_RESET_OFFSET', 223: 'INVOKE_BROKER_TO_GET_CONSUMER_STATUS', 224: 'GET_TOPICS_BY_CLUSTER',
  300: 'QUERY_TOPIC_CONSUME_BY_WHO', 304: 'GET_SYSTEM_TOPIC_LIST_FROM_NS', 305: 'GET_SYSTEM_TOPIC_LIST_FROM_BROKER',
  307: 'GET_CONSUMER_RUNNING_INFO', 309: 'CONSUME_MESSAGE_DIRECTLY', 310: 'SEND_MESSAGE_V2', 317: 'GET_BROKER_CONSUME_STATS',
  320: 'SEND_BATCH_MESSAGE', 324: 'SEND_REPLY_MESSAGE', 325: 'SEND_REPLY_MESSAGE_V2', 326: 'PUSH_REPLY_MESSAGE_TO_CLIENT',
  327: 'ADD_WRITE_PERM_OF_BROKER', 343: 'QUERY_TOPICS_BY_CONSUMER', 351: 'GET_TOPIC_CONFIG', 352: 'GET_SUBSCRIPTIONGROUP_CONFIG',
  361: 'LITE_PULL_MESSAGE',
};

export function codeName(code: number): string {
  return `${code} ${CODE_NAMES[code] ?? '?'}`;
}

interface Usage {
  /** request code → count (client → server requests, "oneway" counted separately). */
  requests: Map<number, number>;
  oneway: Map<number, number>;
  /** request code → response code → count. */
  responses: Map<number, Map<number, number>>;
  /** server → client requests (e.g. 40 NOTIFY_CONSUMER_IDS_CHANGED). */
  pushed: Map<number, number>;
  /** Frames with a serializeType other than JSON (1 = ROCKETMQ binary) by request code. */
  binary: Map<number, number>;
}

function newUsage(): Usage {
  return { requests: new Map(), oneway: new Map(), responses: new Map(), pushed: new Map(), binary: new Map() };
}

function inc<K>(m: Map<K, number>, k: K, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

interface Header {
  code: number;
  flag: number;
  opaque: number;
  type: number;
  headerLen: number;
}

function parseHeader(frame: Buffer): Header | undefined {
  // frame = whole frame including the 4-byte length
  const type = frame[4]!;
  const headerLen = frame.readInt32BE(4) & 0xffffff;
  try {
    if (type === 0) {
      const h = JSON.parse(frame.subarray(8, 8 + headerLen).toString('utf8')) as { code: number; flag?: number; opaque: number };
      return { code: Number(h.code), flag: Number(h.flag ?? 0), opaque: Number(h.opaque), type, headerLen };
    }
    if (type === 1) {
      return { code: frame.readInt16BE(8), opaque: frame.readInt32BE(13), flag: frame.readInt32BE(17), type, headerLen };
    }
  } catch {
    /* not a frame we understand: pass it through */
  }
  return undefined;
}

/** Splits a byte stream into frames; calls onFrame with each complete frame (length prefix included). */
class Framer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly onFrame: (frame: Buffer) => void;
  constructor(onFrame: (frame: Buffer) => void) {
    this.onFrame = onFrame;
  }
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const frame = this.buf.subarray(0, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(frame);
    }
  }
}

export class CodeTracer {
  /** "<client> <scenario>" of the cell now running; traffic is attributed to it. */
  current = 'setup';
  readonly usage = new Map<string, Usage>();
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** real "127.0.0.1:port" → proxy "127.0.0.1:port" */
  private readonly rewrite = new Map<string, string>();

  private use(): Usage {
    let u = this.usage.get(this.current);
    if (!u) this.usage.set(this.current, (u = newUsage()));
    return u;
  }

  /** Starts one proxy listener per upstream port; returns upstream port → proxy port. */
  async start(upstreamPorts: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const port of upstreamPorts) {
      const server = net.createServer((client) => this.pipe(client, port));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const proxyPort = (server.address() as net.AddressInfo).port;
      this.servers.push(server);
      this.rewrite.set(`127.0.0.1:${port}`, `127.0.0.1:${proxyPort}`);
      out.set(port, proxyPort);
    }
    return out;
  }

  private pipe(client: net.Socket, port: number): void {
    const upstream = net.connect({ host: '127.0.0.1', port });
    this.sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pending = new Map<number, number>(); // opaque of a client request → its code
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    const fromClient = new Framer((frame) => {
      const h = parseHeader(frame);
      if (h && (h.flag & 1) === 0) {
        const u = this.use();
        inc((h.flag & 2) !== 0 ? u.oneway : u.requests, h.code);
        if (h.type !== 0) inc(u.binary, h.code);
        if ((h.flag & 2) === 0) pending.set(h.opaque, h.code);
      }
      upstream.write(frame);
    });
    const fromServer = new Framer((frame) => {
      const h = parseHeader(frame);
      if (h && (h.flag & 1) !== 0) {
        const req = pending.get(h.opaque);
        if (req !== undefined) {
          pending.delete(h.opaque);
          const u = this.use();
          let m = u.responses.get(req);
          if (!m) u.responses.set(req, (m = new Map()));
          inc(m, h.code);
          if ((req === 105 || req === 106) && h.type === 0) frame = this.rewriteBody(frame, h);
        }
      } else if (h) {
        inc(this.use().pushed, h.code);
      }
      client.write(frame);
    });
    client.on('data', (d: Buffer) => fromClient.push(d));
    upstream.on('data', (d: Buffer) => fromServer.push(d));
  }

  private rewriteBody(frame: Buffer, h: Header): Buffer {
    const bodyStart = 8 + h.headerLen;
    let body = frame.subarray(bodyStart).toString('utf8');
    for (const [real, proxy] of this.rewrite) body = body.replaceAll(`"${real}"`, `"${proxy}"`);
    const bodyBuf = Buffer.from(body, 'utf8');
    const out = Buffer.alloc(bodyStart + bodyBuf.length);
    frame.copy(out, 0, 0, bodyStart);
    bodyBuf.copy(out, bodyStart);
    out.writeInt32BE(out.length - 4, 0);
    return out;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /** Request codes per scenario (union over clients), with the clients that sent each; JSON-able. */
  summary(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [cell, u] of this.usage) {
      const fmt = (m: Map<number, number>) => Object.fromEntries([...m].sort((a, b) => a[0] - b[0]).map(([c, n]) => [codeName(c), n]));
      out[cell] = {
        requests: fmt(u.requests),
        oneway: fmt(u.oneway),
        pushedToClient: fmt(u.pushed),
        binaryHeader: fmt(u.binary),
        responses: Object.fromEntries([...u.responses].sort((a, b) => a[0] - b[0]).map(([c, m]) => [codeName(c), Object.fromEntries(m)])),
      };
    }
    return out;
  }

  /** One line per cell: request codes (×count), oneway codes, server-pushed codes, non-success response codes. */
  report(): string[] {
    const lines: string[] = [];
    for (const [cell, u] of this.usage) {
      const list = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}×${n}`).join(' ');
      const odd: string[] = [];
      for (const [req, m] of [...u.responses].sort((a, b) => a[0] - b[0])) {
        for (const [resp, n] of m) if (resp !== 0) odd.push(`${req}→${resp}×${n}`);
      }
      lines.push(
        `${cell}: requests ${list(u.requests) || '-'}` +
          (u.oneway.size ? `; oneway ${list(u.oneway)}` : '') +
          (u.pushed.size ? `; broker→client ${list(u.pushed)}` : '') +
          (u.binary.size ? `; ROCKETMQ-binary headers ${list(u.binary)}` : '') +
          (odd.length ? `; non-zero responses ${odd.join(' ')}` : ''),
      );
    }
    return lines;
  }

  write(file: string): void {
    fs.writeFileSync(file, JSON.stringify(this.summary(), null, 2) + '\n');
  }
}
