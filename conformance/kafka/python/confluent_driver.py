"""Conformance driver for confluent-kafka (Python binding of librdkafka). See common.py for the protocol."""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, TIMESTAMP_CREATE_TIME
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic, ResourceType)

import common
from common import BOOTSTRAP, RUN_ID, Fail, check, log, wait_for

try:  # confluent-kafka >= 2.3
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection
except ImportError:  # pragma: no cover
    ConsumerGroupTopicPartitions = TopicCollection = None

BASE = {"bootstrap.servers": BOOTSTRAP, "client.id": "conformance-confluent-kafka"}


def admin():
    return AdminClient(dict(BASE))


def result(futures, what, timeout=30):
    out = {}
    for k, f in futures.items():
        try:
            out[k] = f.result(timeout=timeout)
        except KafkaException as e:
            raise Fail(f"{what} {k}: {e}") from e
    return out


def create_topic(a, topic, parts, config=None):
    result(a.create_topics([NewTopic(topic, num_partitions=parts, replication_factor=1, config=config or {})]),
           "create_topics")

    def ready():
        md = a.list_topics(topic, timeout=10).topics.get(topic)
        return md is not None and md.error is None and len(md.partitions) == parts and all(
            p.leader >= 0 for p in md.partitions.values())
    wait_for(20, f"topic {topic} with leaders", ready)


class Errors:
    def __init__(self):
        self.first = None
        self.delivered = 0

    def __call__(self, err, msg):
        self.delivered += 1
        if err is not None and self.first is None:
            self.first = err


def producer(**extra):
    conf = dict(BASE, **{"acks": "all", "message.timeout.ms": 60000})
    conf.update(extra)
    return Producer(conf)


def produce_all(p, msgs, errors):
    """msgs: iterable of kwargs for Producer.produce; waits for every delivery report."""
    for m in msgs:
        while True:
            try:
                p.produce(on_delivery=errors, **m)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    check(left == 0, f"{left} records not delivered in 60 s")
    if errors.first is not None:
        raise Fail(f"delivery failed: {errors.first}")


def consumer(group=None, **extra):
    conf = dict(BASE, **{"group.id": group or f"unused-{RUN_ID}", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "fetch.wait.max.ms": 200})
    conf.update(extra)
    return Consumer(conf)


def consume_assigned(topic, parts, want, timeout):
    c = consumer()
    c.assign([TopicPartition(topic, p, -2) for p in parts])  # -2 = OFFSET_BEGINNING
    out = []
    deadline = time.time() + timeout
    linger = None
    while time.time() < deadline:
        if len(out) >= want:
            linger = linger or time.time() + 0.5
            if time.time() > linger:
                break
        for m in c.consume(5000, 0.2):
            if m.error():
                if m.error().code() != -191:  # _PARTITION_EOF
                    log(f"consume error: {m.error()}")
                continue
            out.append(m)
    c.close()
    return out


CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def roundtrip():
    a = admin()
    done = []
    for codec in CODECS:
        topic = f"rt-{codec}-confluent-{RUN_ID}"
        create_topic(a, topic, 1)
        base = common.now_ms() - 3_600_000
        want = common.specs(base)
        before = common.now_ms()
        p = producer(**{"compression.type": codec, "linger.ms": 20})
        msgs = []
        for s in want:
            m = {"topic": topic, "partition": 0, "key": common.enc(s["key"]), "value": common.enc(s["value"])}
            if s["headers"]:
                m["headers"] = [(k, v.encode()) for k, v in s["headers"]]
            if s["ts"] is not None:
                m["timestamp"] = s["ts"]
            msgs.append(m)
        produce_all(p, msgs, Errors())
        after = common.now_ms()
        got = []
        for m in consume_assigned(topic, [0], len(want), 30):
            ts_type, ts = m.timestamp()
            check(ts_type == TIMESTAMP_CREATE_TIME, f"{codec}: timestamp type {ts_type}, want CreateTime")
            got.append({"offset": m.offset(), "key": common.dec(m.key()), "value": common.dec(m.value()), "ts": ts,
                        "headers": [(k, common.dec(v) if v is not None else None) for k, v in (m.headers() or [])]})
        common.compare_roundtrip(codec, want, got, before, after)
        done.append(codec)
        log(f"roundtrip {codec} ok")
    return f"20 records × {'/'.join(done)}: keys, null key/value, headers (dup keys, empty), timestamps match"


def idempotent():
    n = 5000
    topic = f"idem-confluent-{RUN_ID}"
    create_topic(admin(), topic, 1)
    p = producer(**{"enable.idempotence": True, "max.in.flight.requests.per.connection": 5, "retries": 1000000,
                    "linger.ms": 1, "batch.num.messages": 50})
    produce_all(p, ({"topic": topic, "partition": 0, "key": f"k{i % 10}".encode(), "value": str(i).encode()}
                    for i in range(n)), Errors())
    got = consume_assigned(topic, [0], n, 60)
    check(len(got) == n, f"consumed {len(got)} records, want exactly {n}")
    for i, m in enumerate(got):
        check(m.value() == str(i).encode() and m.offset() == i, f"record at offset {m.offset()} is {m.value()!r}")
    return f"{n} records, enable.idempotence=true (5 in flight, batches of 50): exactly once, in order"


def order100k():
    n, parts = 100_000, 6
    topic = f"order-confluent-{RUN_ID}"
    create_topic(admin(), topic, parts)
    t0 = time.time()
    # librdkafka's default partitioner (consistent_random) hashes the key; idempotence keeps per-partition order.
    p = producer(**{"enable.idempotence": True, "linger.ms": 5})
    produce_all(p, ({"topic": topic, "key": f"key-{i % 1000}".encode(), "value": str(i).encode()} for i in range(n)),
                Errors())
    t1 = time.time()
    recs = [(m.partition(), m.offset(), m.key().decode(), m.value().decode())
            for m in consume_assigned(topic, list(range(parts)), n, 120)]
    return common.check_order(recs, n, parts) + f" (produce {int((t1 - t0) * 1000)} ms, consume {int((time.time() - t1) * 1000)} ms)"


# ------------------------------------------------------------------ group

class Member:
    def __init__(self, name, group, topic):
        self.name = name
        self.got = {}
        self.c = consumer(group, **{"session.timeout.ms": 10000, "heartbeat.interval.ms": 1000})
        self.c.subscribe([topic])

    def poll(self):
        for m in self.c.consume(500, 0.05):
            if m.error():
                continue
            self.got.setdefault(m.partition(), []).append(m.offset())

    def assigned(self):
        return [tp.partition for tp in self.c.assignment()]

    def count(self):
        return sum(len(v) for v in self.got.values())


def produce_each(topic, parts, per, tag):
    produce_all(producer(**{"linger.ms": 5}), ({"topic": topic, "partition": p, "key": f"k{i}".encode(),
                                                "value": f"{tag}-{p}-{i}".encode()}
                                               for p in range(parts) for i in range(per)), Errors())


def poll_all(ms):
    def step():
        for m in ms:
            m.poll()
    return step


def group():
    parts, per = 6, 50
    topic = group_id = f"grp-confluent-{RUN_ID}"
    create_topic(admin(), topic, parts)
    ms = [Member(f"c{i}", group_id, topic) for i in (1, 2, 3)]

    def state():
        return "assignments: " + common.show_assign([m.name for m in ms], [m.assigned() for m in ms])
    wait_for(60, "3 members to share 6 partitions", lambda: common.disjoint_cover([m.assigned() for m in ms], parts),
             state, poll_all(ms))
    phase_a = common.show_assign([m.name for m in ms], [m.assigned() for m in ms])
    log(f"phase A assignment {phase_a}")
    produce_each(topic, parts, per, "A")
    wait_for(30, "batch A (300 records)", lambda: sum(m.count() for m in ms) >= parts * per, state, poll_all(ms))
    for m in ms:
        m.c.commit(asynchronous=False)
    leaving = ms.pop()
    leaving.c.close()
    wait_for(60, "2 remaining members to take all 6 partitions",
             lambda: common.disjoint_cover([m.assigned() for m in ms], parts), state, poll_all(ms))
    phase_b = common.show_assign([m.name for m in ms], [m.assigned() for m in ms])
    log(f"phase B assignment {phase_b}")
    count_a = sum(m.count() for m in ms)
    produce_each(topic, parts, per, "B")
    wait_for(30, "batch B (300 records)", lambda: sum(m.count() for m in ms) >= count_a + parts * per, state,
             poll_all(ms))
    for m in ms:
        m.c.commit(offsets=[TopicPartition(topic, p, per + per // 2) for p in m.assigned()], asynchronous=False)
    everything = {}
    for m in ms + [leaving]:
        for p, offs in m.got.items():
            everything.setdefault(p, []).extend(offs)
    common.offsets_exactly("before restart", everything, parts, 0, 2 * per)
    for m in ms:
        m.c.close()

    common.restart_broker()

    produce_each(topic, parts, per, "C")
    # One fresh member: two would re-read each other's uncommitted records during their first rebalance.
    r = Member("r1", group_id, topic)
    want = parts * (per // 2 + per)
    wait_for(90, f"resume after restart ({want} records)", lambda: r.count() >= want,
             lambda: f"got {r.count()}, assigned {r.assigned()}", poll_all([r]))
    end = time.time() + 1.5
    while time.time() < end:
        r.poll()
    r.c.close()
    common.offsets_exactly("after restart", r.got, parts, per + per // 2, 3 * per)
    return (f"3 members [{phase_a}] → c3 left [{phase_b}]; committed 75/partition; after broker restart a fresh member "
            "resumed at 75: no loss, no re-delivery of committed records")


# ------------------------------------------------------------------ seek-timestamp

def seek_timestamp():
    topic = f"ts-confluent-{RUN_ID}"
    create_topic(admin(), topic, 1)
    base = common.now_ms() - 3_600_000
    produce_all(producer(), ({"topic": topic, "partition": 0, "key": f"k{i}".encode(), "value": f"v{i}".encode(),
                              "timestamp": base + i * 1000} for i in range(30)), Errors())
    c = consumer()

    def lookup(ts):
        r = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=20)
        check(r[0].error is None, f"offsets_for_times({ts}): {r[0].error}")
        return r[0].offset
    check(lookup(base + 10_000) == 10, f"offsets_for_times(ts of #10) = {lookup(base + 10_000)}")
    check(lookup(base + 10_500) == 11, f"offsets_for_times(between #10 and #11) = {lookup(base + 10_500)}")
    check(lookup(base - 100_000) == 0, f"offsets_for_times(before first) = {lookup(base - 100_000)}")
    check(lookup(base + 1_000_000) == -1, f"offsets_for_times(after last) = {lookup(base + 1_000_000)}, want -1 (end)")
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=20)
    check((lo, hi) == (0, 30), f"watermarks {lo}/{hi}")
    c.assign([TopicPartition(topic, 0, lookup(base + 10_000))])
    got = []
    deadline = time.time() + 20
    while len(got) < 20 and time.time() < deadline:
        got.extend(m for m in c.consume(100, 0.2) if not m.error())
    c.close()
    check(len(got) == 20, f"consumed {len(got)} records from offset 10, want 20")
    for i, m in enumerate(got):
        check(m.offset() == 10 + i and m.timestamp()[1] == base + (10 + i) * 1000 and m.value() == f"v{10 + i}".encode(),
              f"record {i} after seek: offset {m.offset()} ts {m.timestamp()} value {m.value()!r}")
    return "offsets_for_times exact/between/before/after-last ok; consumed 20 records from the found offset"


# ------------------------------------------------------------------ admin

def config_value(a, topic, key):
    res = ConfigResource(ResourceType.TOPIC, topic)
    entries = list(result(a.describe_configs([res]), "describe_configs").values())[0]
    e = entries.get(key)
    return None if e is None else e.value


def await_config(a, topic, key, want):
    deadline = time.time() + 10
    while True:
        v = config_value(a, topic, key)
        if want(v) or time.time() > deadline:
            return v
        time.sleep(0.1)


def admin_scenario():
    topic = f"adm-confluent-{RUN_ID}"
    a = admin()
    steps = []
    create_topic(a, topic, 3, {"retention.ms": "123456789"})
    steps.append("create")
    if TopicCollection is not None:
        d = result(a.describe_topics(TopicCollection([topic])), "describe_topics")[topic]
        check(len(d.partitions) == 3, f"describe_topics: {len(d.partitions)} partitions, want 3")
        check(d.topic_id is not None and str(d.topic_id) != "AAAAAAAAAAAAAAAAAAAAAA", "describe_topics: no topic id")
    check(topic in a.list_topics(timeout=20).topics, f"list_topics lacks {topic}")
    steps.append("describe-topics")
    cl = a.describe_cluster().result(30)
    check(len(cl.nodes) > 0 and cl.cluster_id, f"describe_cluster: {len(cl.nodes)} nodes, cluster id {cl.cluster_id!r}")
    steps.append(f"describe-cluster({len(cl.nodes)} node, controller {cl.controller.id if cl.controller else None})")
    v = await_config(a, topic, "retention.ms", lambda v: v == "123456789")
    check(v == "123456789", f"describe_configs retention.ms = {v}")
    v = await_config(a, topic, "cleanup.policy", lambda v: v == "delete")
    check(v == "delete", f"describe_configs cleanup.policy = {v}, want the default delete")
    steps.append("describe-configs")
    res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("retention.ms", "987654321", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("max.message.bytes", "2000000", incremental_operation=AlterConfigOpType.SET)])
    result(a.incremental_alter_configs([res]), "incremental_alter_configs")
    v = await_config(a, topic, "retention.ms", lambda v: v == "987654321")
    check(v == "987654321", f"after incremental_alter_configs retention.ms = {v}")
    v = await_config(a, topic, "max.message.bytes", lambda v: v == "2000000")
    check(v == "2000000", f"after incremental_alter_configs max.message.bytes = {v}")
    res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("max.message.bytes", None, incremental_operation=AlterConfigOpType.DELETE)])
    result(a.incremental_alter_configs([res]), "incremental_alter_configs(delete)")
    v = await_config(a, topic, "max.message.bytes", lambda v: v != "2000000")
    check(v != "2000000", "after DELETE max.message.bytes still 2000000")
    steps.append("incremental-alter-configs(set, delete)")
    result(a.create_partitions([NewPartitions(topic, 5)]), "create_partitions")
    wait_for(20, "5 partitions", lambda: len(a.list_topics(topic, timeout=10).topics[topic].partitions) == 5)
    steps.append("create-partitions(3→5)")
    result(a.delete_topics([topic]), "delete_topics")
    wait_for(20, "topic gone after delete_topics", lambda: topic not in a.list_topics(timeout=10).topics)
    steps.append("delete-topic")
    return ", ".join(steps)


# ------------------------------------------------------------------ groups-admin

def group_offsets(a, group_id):
    r = result(a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)]), "list_consumer_group_offsets")
    return {tp.partition: tp.offset for tp in r[group_id].topic_partitions}


def listed(a, group_id):
    return any(g.group_id == group_id for g in a.list_consumer_groups().result(30).valid)


def groups_admin():
    topic = group_id = f"gadm-confluent-{RUN_ID}"
    a = admin()
    steps = []
    create_topic(a, topic, 2)
    produce_each(topic, 2, 10, "G")
    m = Member("g1", group_id, topic)
    wait_for(60, "20 records in the group", lambda: m.count() >= 20, lambda: str(m.count()), poll_all([m]))
    m.c.commit(offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 10)], asynchronous=False)
    d = result(a.describe_consumer_groups([group_id]), "describe_consumer_groups")[group_id]
    check(len(d.members) == 1 and d.state.name == "STABLE",
          f"describe_consumer_groups (active): state {d.state}, {len(d.members)} members")
    check(len(d.members[0].assignment.topic_partitions) == 2,
          f"describe_consumer_groups (active): assignment {d.members[0].assignment.topic_partitions}")
    steps.append("describe(active: stable, 1 member, 2 partitions)")
    m.c.close()
    check(listed(a, group_id), f"list_consumer_groups lacks {group_id}")
    steps.append("list")
    d = result(a.describe_consumer_groups([group_id]), "describe_consumer_groups")[group_id]
    check(d.state.name == "EMPTY" and not d.members, f"describe_consumer_groups (after close): state {d.state}, {len(d.members)} members")
    steps.append("describe(empty)")
    offs = group_offsets(a, group_id)
    check(offs.get(0) == 7 and offs.get(1) == 10, f"list_consumer_group_offsets = {offs}")
    steps.append("list-offsets(7,10)")
    # librdkafka has DeleteConsumerGroupOffsets, but confluent-kafka-python does not expose it.
    steps.append("delete-offsets n/a (confluent-kafka-python exposes no OffsetDelete)")
    result(a.delete_consumer_groups([group_id]), "delete_consumer_groups")
    check(not listed(a, group_id), "group still listed after delete_consumer_groups")
    steps.append("delete-group")
    a.delete_topics([topic])
    return ", ".join(steps)


def delay():
    """README "delay": a delay-enabled 2-partition topic, a consumer already reading both partitions, one flush of the
    shared record set; see common.check_delay."""
    topic = f"delay-confluent-{RUN_ID}"
    create_topic(admin(), topic, 2, {"diglot.delay.enable": "true"})
    c = consumer(**{"fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, p, -2) for p in (0, 1)])  # -2 = OFFSET_BEGINNING
    p = producer(**{"linger.ms": 5})
    errors = Errors()
    produce_all(p, [{"topic": topic, "partition": part, "key": b"warm", "value": f"warm-up-{part}".encode()} for part in (0, 1)], errors)
    warm = set()

    def poll_warm():
        for m in c.consume(100, 0.1):
            if not m.error():
                warm.add(common.dec(m.value()))
    wait_for(30, "the 2 warm-up records (no delay headers)", lambda: len(warm) >= 2, lambda: f"{warm}", step=poll_warm)
    log("consumer ready")
    specs = common.delay_specs()
    col = common.DelayCollector(specs, warm)
    offsets = {}

    def report(d):
        def cb(err, msg):
            errors(err, msg)
            if err is None:
                offsets[d.name] = msg.offset()
        return cb
    send_start = common.now_ms()
    for d in specs:
        d.set_due(send_start)
        p.produce(topic, key=d.key.encode(), value=d.value.encode(), partition=d.partition,
                  headers=[(k, v.encode()) for k, v in d.headers()], on_delivery=report(d))
    left = p.flush(30)
    send_end = common.now_ms()
    check(left == 0, f"{left} records not delivered in 30 s")
    check(errors.first is None, lambda: f"delivery failed: {errors.first}")
    for d in specs:
        d.offset = offsets.get(d.name)
    last_due = max(d.due for d in specs)
    log(f"produced {len(specs)} records in {send_end - send_start} ms; last due in {last_due - send_end} ms")
    deadline, linger = last_due + 30000, None
    while common.now_ms() < deadline and (linger is None or common.now_ms() < linger):
        msgs = c.consume(100, 0.05)
        at = common.now_ms()
        for m in msgs:
            if m.error():
                continue
            col.add(at, m.partition(), m.offset(), common.dec(m.key()), common.dec(m.value()),
                    [(k, common.dec(v)) for k, v in (m.headers() or [])])
        if linger is None and col.complete():
            linger = at + 1500  # duplicates
    c.close()
    return common.check_delay(specs, col.strays, send_start, send_end)


if __name__ == "__main__":
    common.main("confluent-kafka", {
        "roundtrip": roundtrip, "idempotent": idempotent, "order100k": order100k, "group": group,
        "seek-timestamp": seek_timestamp, "admin": admin_scenario, "groups-admin": groups_admin,
        "delay": delay,
    })
