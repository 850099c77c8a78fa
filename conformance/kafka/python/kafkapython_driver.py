"""Conformance driver for kafka-python (pure Python). See common.py for the protocol."""
import queue
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.structs import OffsetAndMetadata

import common
from common import BOOTSTRAP, RUN_ID, check, log, wait_for

BASE = {"bootstrap_servers": BOOTSTRAP, "client_id": "conformance-kafka-python"}


def admin():
    return KafkaAdminClient(**BASE, request_timeout_ms=30000)


def topic_meta(a, topic):
    for t in a.describe_topics([topic]):
        if t.get("name", t.get("topic")) == topic:
            return t
    return None


def create_topic(a, topic, parts, configs=None):
    a.create_topics([NewTopic(topic, parts, 1, topic_configs=configs or {})])

    def ready():
        t = topic_meta(a, topic)
        return t is not None and t.get("error_code", 0) == 0 and len(t["partitions"]) == parts and all(
            p.get("leader_id", p.get("leader", -1)) >= 0 for p in t["partitions"])
    wait_for(20, f"topic {topic} with leaders", ready)


def producer(**extra):
    conf = dict(BASE, acks="all", request_timeout_ms=30000)
    conf.update(extra)
    return KafkaProducer(**conf)


def consume_assigned(topic, parts, want, timeout):
    c = KafkaConsumer(**BASE, enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=200,
                      max_poll_records=5000)
    tps = [TopicPartition(topic, p) for p in parts]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = []
    deadline = time.time() + timeout
    linger = None
    while time.time() < deadline:
        if len(out) >= want:
            linger = linger or time.time() + 0.5
            if time.time() > linger:
                break
        for recs in c.poll(timeout_ms=200).values():
            out.extend(recs)
    c.close()
    # poll() returns per-partition lists; keep each partition's order, partitions in turn.
    return out


CODECS = [("none", None), ("gzip", "gzip"), ("snappy", "snappy"), ("lz4", "lz4"), ("zstd", "zstd")]


def roundtrip():
    a = admin()
    done = []
    for name, codec in CODECS:
        topic = f"rt-{name}-kafkapython-{RUN_ID}"
        create_topic(a, topic, 1)
        base = common.now_ms() - 3_600_000
        want = common.specs(base)
        before = common.now_ms()
        p = producer(compression_type=codec, linger_ms=20)
        futures = [p.send(topic, partition=0, key=common.enc(s["key"]), value=common.enc(s["value"]),
                          headers=[(k, v.encode()) for k, v in s["headers"]], timestamp_ms=s["ts"]) for s in want]
        p.flush(60)
        for f in futures:
            f.get(timeout=30)
        p.close()
        after = common.now_ms()
        got = []
        for r in consume_assigned(topic, [0], len(want), 30):
            check(r.timestamp_type == 0, f"{name}: timestamp type {r.timestamp_type}, want CreateTime")
            got.append({"offset": r.offset, "key": common.dec(r.key), "value": common.dec(r.value), "ts": r.timestamp,
                        "headers": [(k, common.dec(v)) for k, v in (r.headers or [])]})
        common.compare_roundtrip(name, want, got, before, after)
        done.append(name)
        log(f"roundtrip {name} ok")
    return f"20 records × {'/'.join(done)}: keys, null key/value, headers (dup keys, empty), timestamps match"


def idempotent():
    n = 5000
    topic = f"idem-kafkapython-{RUN_ID}"
    create_topic(admin(), topic, 1)
    p = producer(enable_idempotence=True, retries=1000000, max_in_flight_requests_per_connection=5, linger_ms=1,
                 batch_size=4096)
    futures = [p.send(topic, partition=0, key=f"k{i % 10}".encode(), value=str(i).encode()) for i in range(n)]
    p.flush(60)
    for f in futures:
        f.get(timeout=30)
    p.close()
    got = consume_assigned(topic, [0], n, 60)
    check(len(got) == n, f"consumed {len(got)} records, want exactly {n}")
    for i, r in enumerate(got):
        check(r.value == str(i).encode() and r.offset == i, f"record at offset {r.offset} is {r.value!r}")
    return f"{n} records, enable_idempotence=True (5 in flight, 4 KiB batches): exactly once, in order"


def order100k():
    n, parts = 100_000, 6
    topic = f"order-kafkapython-{RUN_ID}"
    create_topic(admin(), topic, parts)
    t0 = time.time()
    p = producer(enable_idempotence=True, linger_ms=5, batch_size=65536)
    last = None
    for i in range(n):
        last = p.send(topic, key=f"key-{i % 1000}".encode(), value=str(i).encode())
    p.flush(120)
    last.get(timeout=30)
    p.close()
    t1 = time.time()
    recs = [(r.partition, r.offset, r.key.decode(), r.value.decode())
            for r in consume_assigned(topic, list(range(parts)), n, 150)]
    return common.check_order(recs, n, parts) + f" (produce {int((t1 - t0) * 1000)} ms, consume {int((time.time() - t1) * 1000)} ms)"


# ------------------------------------------------------------------ group

class Member(threading.Thread):
    """A KafkaConsumer in its own thread (kafka-python consumers are not thread-safe: every call runs here)."""

    def __init__(self, name, group_id, topic):
        super().__init__(daemon=True)
        self.name_ = name
        self.topic = topic
        self.got = {}
        self.assigned_now = []
        self.lock = threading.Lock()
        self.commands = queue.Queue()
        self.error = None
        self.c = KafkaConsumer(**BASE, group_id=group_id, enable_auto_commit=False, auto_offset_reset="earliest",
                               session_timeout_ms=10000, heartbeat_interval_ms=1000, fetch_max_wait_ms=200)
        self.c.subscribe([topic])
        self.start()

    def run(self):
        try:
            while True:
                try:
                    cmd, arg, done = self.commands.get_nowait()
                except queue.Empty:
                    cmd = None
                if cmd == "close":
                    self.c.close(autocommit=False)
                    done.set()
                    return
                if cmd == "commit":
                    try:
                        self.c.commit(arg) if arg is not None else self.c.commit()
                        done.result = None
                    except Exception as e:  # noqa: BLE001
                        done.result = e
                    done.set()
                batch = self.c.poll(timeout_ms=50)
                with self.lock:
                    for tp, recs in batch.items():
                        self.got.setdefault(tp.partition, []).extend(r.offset for r in recs)
                    self.assigned_now = [tp.partition for tp in self.c.assignment()]
        except Exception as e:  # noqa: BLE001
            self.error = e

    def call(self, cmd, arg=None, timeout=30):
        done = threading.Event()
        done.result = None
        self.commands.put((cmd, arg, done))
        check(done.wait(timeout), f"{self.name_}: {cmd} did not finish in {timeout} s")
        if done.result is not None:
            raise done.result

    def assigned(self):
        check(self.error is None, lambda: f"{self.name_} failed: {self.error!r}")
        with self.lock:
            return list(self.assigned_now)

    def count(self):
        with self.lock:
            return sum(len(v) for v in self.got.values())


def produce_each(topic, parts, per, tag):
    p = producer(linger_ms=5)
    for part in range(parts):
        for i in range(per):
            p.send(topic, partition=part, key=f"k{i}".encode(), value=f"{tag}-{part}-{i}".encode())
    p.flush(60)
    p.close()


def group():
    parts, per = 6, 50
    topic = group_id = f"grp-kafkapython-{RUN_ID}"
    create_topic(admin(), topic, parts)
    ms = []

    def state():
        return "assignments: " + common.show_assign([m.name_ for m in ms], [m.assigned() for m in ms])
    # Members join one at a time (each join is a rebalance): with all three joining at once, kafka-python's leader
    # once stopped heartbeating after a burst of 4 generations in a second and was never re-admitted (seen against
    # Apache Kafka, about 1 run in 10).
    for i in (1, 2, 3):
        ms.append(Member(f"c{i}", group_id, topic))
        wait_for(60, f"{len(ms)} member(s) to share 6 partitions",
                 lambda: common.disjoint_cover([m.assigned() for m in ms], parts), state)
    phase_a = common.show_assign([m.name_ for m in ms], [m.assigned() for m in ms])
    log(f"phase A assignment {phase_a}")
    produce_each(topic, parts, per, "A")
    wait_for(30, "batch A (300 records)", lambda: sum(m.count() for m in ms) >= parts * per, state)
    for m in ms:
        m.call("commit")
    leaving = ms.pop()
    leaving.call("close")
    wait_for(60, "2 remaining members to take all 6 partitions",
             lambda: common.disjoint_cover([m.assigned() for m in ms], parts), state)
    phase_b = common.show_assign([m.name_ for m in ms], [m.assigned() for m in ms])
    log(f"phase B assignment {phase_b}")
    count_a = sum(m.count() for m in ms)
    produce_each(topic, parts, per, "B")
    wait_for(30, "batch B (300 records)", lambda: sum(m.count() for m in ms) >= count_a + parts * per, state)
    for m in ms:
        m.call("commit", {TopicPartition(topic, p): OffsetAndMetadata(per + per // 2, "", -1) for p in m.assigned()})
    everything = {}
    for m in ms + [leaving]:
        for p, offs in m.got.items():
            everything.setdefault(p, []).extend(offs)
    common.offsets_exactly("before restart", everything, parts, 0, 2 * per)
    for m in ms:
        m.call("close")

    common.restart_broker()

    produce_each(topic, parts, per, "C")
    # One fresh member: two would re-read each other's uncommitted records during their first rebalance.
    r = Member("r1", group_id, topic)
    want = parts * (per // 2 + per)
    wait_for(90, f"resume after restart ({want} records)", lambda: r.count() >= want,
             lambda: f"got {r.count()}, assigned {r.assigned()}")
    time.sleep(1.5)
    r.call("close")
    common.offsets_exactly("after restart", r.got, parts, per + per // 2, 3 * per)
    return (f"3 members [{phase_a}] → c3 left [{phase_b}]; committed 75/partition; after broker restart a fresh member "
            "resumed at 75: no loss, no re-delivery of committed records")


# ------------------------------------------------------------------ seek-timestamp

def seek_timestamp():
    topic = f"ts-kafkapython-{RUN_ID}"
    create_topic(admin(), topic, 1)
    base = common.now_ms() - 3_600_000
    p = producer()
    for i in range(30):
        p.send(topic, partition=0, key=f"k{i}".encode(), value=f"v{i}".encode(), timestamp_ms=base + i * 1000)
    p.flush(30)
    p.close()
    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(**BASE, enable_auto_commit=False, fetch_max_wait_ms=200)
    c.assign([tp])

    def lookup(ts):
        return c.offsets_for_times({tp: ts})[tp]
    exact = lookup(base + 10_000)
    check(exact is not None and exact.offset == 10 and exact.timestamp == base + 10_000, f"offsets_for_times(ts of #10) = {exact}")
    between = lookup(base + 10_500)
    check(between is not None and between.offset == 11, f"offsets_for_times(between #10 and #11) = {between}")
    early = lookup(base - 100_000)
    check(early is not None and early.offset == 0, f"offsets_for_times(before first) = {early}")
    late = lookup(base + 1_000_000)
    check(late is None, f"offsets_for_times(after last) = {late}, want None")
    b, e = c.beginning_offsets([tp])[tp], c.end_offsets([tp])[tp]
    check((b, e) == (0, 30), f"beginning/end offsets {b}/{e}")
    c.seek(tp, exact.offset)
    got = []
    deadline = time.time() + 20
    while len(got) < 20 and time.time() < deadline:
        for recs in c.poll(timeout_ms=200).values():
            got.extend(recs)
    c.close()
    check(len(got) == 20, f"consumed {len(got)} records from offset 10, want 20")
    for i, r in enumerate(got):
        check(r.offset == 10 + i and r.timestamp == base + (10 + i) * 1000 and r.value == f"v{10 + i}".encode(),
              f"record {i} after seek: offset {r.offset} ts {r.timestamp} value {r.value!r}")
    return "offsets_for_times exact/between/before/after-last ok; consumed 20 records from the found offset"


# ------------------------------------------------------------------ admin

def config_value(a, topic, key):
    res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    entries = res["topic"][topic]
    e = entries.get(key)
    if isinstance(e, dict):
        return e.get("value")
    return e


def await_config(a, topic, key, want):
    deadline = time.time() + 10
    while True:
        v = config_value(a, topic, key)
        if want(v) or time.time() > deadline:
            return v
        time.sleep(0.1)


def admin_scenario():
    topic = f"adm-kafkapython-{RUN_ID}"
    a = admin()
    steps = []
    create_topic(a, topic, 3, {"retention.ms": "123456789"})
    steps.append("create")
    t = topic_meta(a, topic)
    check(t is not None and len(t["partitions"]) == 3, f"describe_topics: {t}")
    check(topic in a.list_topics(), f"list_topics lacks {topic}")
    steps.append("describe-topics")
    cl = a.describe_cluster()
    check(len(cl.get("brokers", [])) > 0 and cl.get("cluster_id"), f"describe_cluster: {cl}")
    steps.append(f"describe-cluster({len(cl['brokers'])} node, controller {cl.get('controller_id')})")
    v = await_config(a, topic, "retention.ms", lambda v: v == "123456789")
    check(v == "123456789", f"describe_configs retention.ms = {v}")
    v = await_config(a, topic, "cleanup.policy", lambda v: v == "delete")
    check(v == "delete", f"describe_configs cleanup.policy = {v}, want the default delete")
    steps.append("describe-configs")
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
        "retention.ms": ("SET", "987654321"), "max.message.bytes": ("SET", "2000000")})], incremental=True)
    v = await_config(a, topic, "retention.ms", lambda v: v == "987654321")
    check(v == "987654321", f"after alter_configs(incremental) retention.ms = {v}")
    v = await_config(a, topic, "max.message.bytes", lambda v: v == "2000000")
    check(v == "2000000", f"after alter_configs(incremental) max.message.bytes = {v}")
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={
        "max.message.bytes": ("DELETE", None)})], incremental=True)
    v = await_config(a, topic, "max.message.bytes", lambda v: v != "2000000")
    check(v != "2000000", "after DELETE max.message.bytes still 2000000")
    steps.append("incremental-alter-configs(set, delete)")
    a.create_partitions({topic: NewPartitions(5)})
    wait_for(20, "5 partitions", lambda: len((topic_meta(a, topic) or {"partitions": []})["partitions"]) == 5)
    steps.append("create-partitions(3→5)")
    a.delete_topics([topic])
    wait_for(20, "topic gone after delete_topics", lambda: topic not in a.list_topics())
    steps.append("delete-topic")
    return ", ".join(steps)


# ------------------------------------------------------------------ groups-admin

def groups_admin():
    topic = group_id = f"gadm-kafkapython-{RUN_ID}"
    a = admin()
    steps = []
    create_topic(a, topic, 2)
    produce_each(topic, 2, 10, "G")
    m = Member("g1", group_id, topic)
    wait_for(60, "20 records in the group", lambda: m.count() >= 20, lambda: str(m.count()))
    m.call("commit", {TopicPartition(topic, 0): OffsetAndMetadata(7, "", -1), TopicPartition(topic, 1): OffsetAndMetadata(10, "", -1)})
    d = a.describe_groups([group_id])[group_id]
    members = d.get("members", [])
    check(len(members) == 1 and d.get("group_state", d.get("state")) == "Stable",
          f"describe_groups (active): state {d.get('group_state', d.get('state'))}, {len(members)} members")
    steps.append("describe(active: stable, 1 member)")
    m.call("close")

    def is_listed():
        return any(g.get("group_id", g.get("group")) == group_id for g in a.list_groups())
    check(is_listed(), f"list_groups lacks {group_id}")
    steps.append("list")
    d = a.describe_groups([group_id])[group_id]
    check(d.get("group_state", d.get("state")) == "Empty" and not d.get("members"),
          f"describe_groups (after close): {d.get('group_state', d.get('state'))}, {len(d.get('members', []))} members")
    steps.append("describe(empty)")
    offs = {tp.partition: om.offset for tp, om in a.list_group_offsets(group_id)[group_id].items()}
    check(offs.get(0) == 7 and offs.get(1) == 10, f"list_group_offsets = {offs}")
    steps.append("list-offsets(7,10)")
    res = a.delete_group_offsets(group_id, [TopicPartition(topic, 0)])
    check(all(getattr(err, "errno", 0) == 0 for err in res.values()), f"delete_group_offsets: {res}")
    offs = {tp.partition: om.offset for tp, om in a.list_group_offsets(group_id)[group_id].items()}
    check(offs.get(0, -1) < 0 and offs.get(1) == 10, f"after delete_group_offsets(p0): {offs}")
    steps.append("delete-offsets(p0)")
    a.delete_groups([group_id])
    check(not is_listed(), "group still listed after delete_groups")
    steps.append("delete-group")
    a.delete_topics([topic])
    return ", ".join(steps)


def delay():
    """README "delay": a delay-enabled 2-partition topic, a consumer already reading both partitions, one flush of the
    shared record set; see common.check_delay."""
    topic = f"delay-kafkapython-{RUN_ID}"
    create_topic(admin(), topic, 2, {"diglot.delay.enable": "true"})
    c = KafkaConsumer(**BASE, enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=100)
    tps = [TopicPartition(topic, p) for p in (0, 1)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    p = producer(linger_ms=5)
    for part in (0, 1):
        p.send(topic, partition=part, key=b"warm", value=f"warm-up-{part}".encode()).get(timeout=30)
    warm = set()

    def poll_warm():
        for recs in c.poll(timeout_ms=100).values():
            warm.update(common.dec(r.value) for r in recs)
    wait_for(30, "the 2 warm-up records (no delay headers)", lambda: len(warm) >= 2, lambda: f"{warm}", step=poll_warm)
    log("consumer ready")
    specs = common.delay_specs()
    col = common.DelayCollector(specs, warm)
    send_start = common.now_ms()
    futures = []
    for d in specs:
        d.set_due(send_start)
        futures.append(p.send(topic, partition=d.partition, key=d.key.encode(), value=d.value.encode(),
                              headers=[(k, v.encode()) for k, v in d.headers()]))
    p.flush(30)
    for d, f in zip(specs, futures):
        d.offset = f.get(timeout=30).offset
    send_end = common.now_ms()
    last_due = max(d.due for d in specs)
    log(f"produced {len(specs)} records in {send_end - send_start} ms; last due in {last_due - send_end} ms")
    deadline, linger = last_due + 30000, None
    while common.now_ms() < deadline and (linger is None or common.now_ms() < linger):
        polled = c.poll(timeout_ms=50)
        at = common.now_ms()
        for recs in polled.values():
            for r in recs:
                col.add(at, r.partition, r.offset, common.dec(r.key), common.dec(r.value),
                        [(k, common.dec(v)) for k, v in (r.headers or [])])
        if linger is None and col.complete():
            linger = at + 1500  # duplicates
    c.close()
    p.close()
    return common.check_delay(specs, col.strays, send_start, send_end)


if __name__ == "__main__":
    common.main("kafka-python", {
        "roundtrip": roundtrip, "idempotent": idempotent, "order100k": order100k, "group": group,
        "seek-timestamp": seek_timestamp, "admin": admin_scenario, "groups-admin": groups_admin,
        "delay": delay,
    })
