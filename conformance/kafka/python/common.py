"""Shared helpers of the Python conformance drivers (confluent_driver.py, kafkapython_driver.py).

A driver runs one scenario: `python <driver>.py <scenario>` with BOOTSTRAP=host:port and RUN_ID set. Progress goes to
stderr; control lines ({"control":"restart-broker"}, answered by "restarted" on stdin) and one final
{"ok": bool, "detail": "..."} line go to stdout. See ../README.md for what each scenario checks.
"""
import json
import os
import sys
import time
import traceback

BOOTSTRAP = os.environ.get("BOOTSTRAP") or "127.0.0.1:9092"
RUN_ID = os.environ.get("RUN_ID") or format(int(time.time() * 1000), "x")
TAG = "python"


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(f"[{TAG}] {msg}", file=sys.stderr, flush=True)


def check(cond, msg):
    if not cond:
        raise Fail(msg() if callable(msg) else msg)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(tag, scenarios):
    global TAG
    TAG = tag
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    fn = scenarios.get(name)
    if fn is None:
        emit({"ok": False, "detail": f"unknown scenario {name!r}"})
        sys.exit(2)
    try:
        detail = fn()
    except Skip as e:
        emit({"ok": False, "skip": str(e), "detail": ""})
        os._exit(0)
    except Fail as e:
        emit({"ok": False, "detail": str(e)})
        os._exit(1)
    except Exception as e:  # noqa: BLE001 - any client error fails the scenario
        traceback.print_exc()
        emit({"ok": False, "detail": f"{type(e).__name__}: {e}"})
        os._exit(1)
    emit({"ok": True, "detail": detail})
    # os._exit: do not wait for client background threads on the way out.
    os._exit(0)


def restart_broker():
    emit({"control": "restart-broker"})
    line = sys.stdin.readline().strip()
    check(line == "restarted", f"runner did not restart the broker: {line!r}")
    log("broker restarted")


def dump_threads():
    """Every thread's stack to stderr (the cell's log), to see where a client is stuck."""
    import threading
    import traceback as tb
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        log(f"thread {names.get(ident, ident)}:\n" + "".join(tb.format_stack(frame)))


def wait_for(timeout, what, cond, state=lambda: "", step=None):
    deadline = time.time() + timeout
    while not cond():
        if time.time() >= deadline:
            dump_threads()
        check(time.time() < deadline, lambda: f"timed out waiting for {what}; {state()}")
        if step:
            step()
        else:
            time.sleep(0.05)


def specs(base):
    """The shared 20-record set of the roundtrip scenario (see README): dicts key/value/headers/ts (None = null/unset)."""
    out = []
    for i in range(20):
        key = None if i % 5 == 4 else f"key-{i}"
        if i == 7:
            value = None
        elif i == 10:
            value = "big-" + "0123456789abcdef" * 1250
        else:
            value = f"value-{i}-\u00e9\u2713"
        headers = [] if i % 3 == 0 else [("h1", f"v{i}"), ("h2", "\u00fcber"), ("h1", "dup"), ("empty", "")]
        ts = base + i if i % 2 == 0 else None
        out.append({"key": key, "value": value, "headers": headers, "ts": ts})
    return out


def enc(s):
    return None if s is None else s.encode("utf-8")


def dec(b):
    return None if b is None else bytes(b).decode("utf-8")


def short(s):
    if s is None:
        return "null"
    return repr(s[:40] + "…" if len(s) > 40 else s)


def compare_roundtrip(codec, want, got, before, after):
    """got: list of dicts offset/key/value/headers/ts (str or None; headers list of (str, str))."""
    check(len(got) == len(want), f"{codec}: consumed {len(got)} records, want {len(want)}")
    for i, (w, r) in enumerate(zip(want, got)):
        where = f"{codec} record {i}: "
        check(r["offset"] == i, where + f"offset {r['offset']}")
        check(r["key"] == w["key"], lambda: where + f"key {short(r['key'])} != {short(w['key'])}")
        check(r["value"] == w["value"], lambda: where + f"value {short(r['value'])} != {short(w['value'])}")
        check(len(r["headers"]) == len(w["headers"]), where + f"header count {len(r['headers'])} != {len(w['headers'])}")
        for j, (hg, hw) in enumerate(zip(r["headers"], w["headers"])):
            check(tuple(hg) == tuple(hw), where + f"header {j} {hg!r} != {hw!r}")
        if w["ts"] is not None:
            check(r["ts"] == w["ts"], where + f"timestamp {r['ts']} != {w['ts']}")
        else:
            check(before - 5000 <= r["ts"] <= after + 5000, where + f"timestamp {r['ts']} outside [{before},{after}] ± 5 s")


def check_order(recs, n, parts):
    """recs: list of (partition, offset, key, value) with str key/value."""
    check(len(recs) == n, f"consumed {len(recs)} records, want {n}")
    seen = bytearray(n)
    last_off, last_val, key_part = {}, {}, {}
    for p, off, key, value in recs:
        v = int(value)
        check(not seen[v], f"record {v} consumed twice")
        seen[v] = 1
        check(key == f"key-{v % 1000}", f"record {v} has key {key}")
        if p in last_off:
            check(off == last_off[p] + 1, f"partition {p}: offset {off} after {last_off[p]}")
            check(v > last_val[p], f"partition {p}: record {v} after {last_val[p]} (order broken)")
        last_off[p], last_val[p] = off, v
        kp = key_part.setdefault(key, p)
        check(kp == p, f"key {key} in partitions {kp} and {p}")
    check(len(last_off) == parts, f"records landed in {len(last_off)} partitions, want {parts}")
    return f"{n} records over {parts} partitions, per-partition order and completeness ok"


def offsets_exactly(phase, by_part, parts, lo, hi):
    for p in range(parts):
        got = sorted(by_part.get(p, []))
        desc = f"[{len(got)} offsets, {got[0]}..{got[-1]}]" if got else "[]"
        check(got == list(range(lo, hi)), f"{phase}, partition {p} consumed offsets {desc}, want {lo}..{hi - 1} once")


def disjoint_cover(assignments, parts):
    if any(len(a) == 0 for a in assignments):
        return False
    flat = [p for a in assignments for p in a]
    return len(flat) == parts and len(set(flat)) == parts


def show_assign(names, assignments):
    return " ".join(f"{n}={','.join(str(p) for p in sorted(a))}" for n, a in zip(names, assignments))


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- delay (README "delay")

DELAY_EARLY_MS = 50      # a delayed record may be seen this much before its due time
DELAY_LATE_MS = 5000     # ... and at most this long after it
IMMEDIATE_MS = 2000      # a record without delay headers: consumed within this long after the produce returned


class DSpec:
    """One record of the delay scenario: name, partition, delay header (None: none), its value, relative delay
    (ms; -1: TIMER_DELIVER_MS, whose absolute value is set at produce time)."""

    def __init__(self, name, partition, header, value, rel):
        self.name, self.partition, self.header, self.header_value, self.rel = name, partition, header, value, rel
        self.due = 0
        self.at = None
        self.count = 0
        self.got = None  # (partition, key str, value str, [(k, v str)])
        self.offset = None

    @property
    def key(self):
        return f"dk-{self.name}"

    @property
    def value(self):
        return f"{self.name}-\u00e9\u2713"

    @property
    def kind(self):
        return self.header or "none"

    def headers(self):
        h = [("kind", self.kind)]
        if self.header:
            h.append((self.header, self.header_value))
        h.append(("u", "\u00fcber \u2713"))
        return h

    def set_due(self, send_start):
        """Fixes the due time just before the record is handed to the producer."""
        if self.rel < 0:
            self.due = now_ms() + 2500
            self.header_value = str(self.due)
        else:
            self.due = send_start + self.rel


def delay_specs():
    """The shared record set in produce order: 2 each of TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=now+2500, DELAY=1, and 4
    without delay headers, over partitions 0 and 1."""
    return [DSpec("now-0", 0, None, None, 0), DSpec("ms-0", 0, "TIMER_DELAY_MS", "1500", 1500),
            DSpec("at-1", 1, "TIMER_DELIVER_MS", None, -1), DSpec("lvl-0", 0, "DELAY", "1", 1000),
            DSpec("now-1", 1, None, None, 0), DSpec("ms-1", 1, "TIMER_DELAY_MS", "1500", 1500),
            DSpec("at-0", 0, "TIMER_DELIVER_MS", None, -1), DSpec("lvl-1", 1, "DELAY", "1", 1000),
            DSpec("now-2", 0, None, None, 0), DSpec("now-3", 1, None, None, 0)]


class DelayCollector:
    def __init__(self, specs, warm):
        self.by_value = {d.value: d for d in specs}
        self.specs = specs
        self.warm = warm
        self.strays = []

    def add(self, at, partition, offset, key, value, headers):
        d = self.by_value.get(value)
        if d is None:
            if value not in self.warm:
                self.strays.append(f"{partition}@{offset} {value}")
            return
        d.count += 1
        if d.count == 1:
            d.at = at
            d.got = (partition, key, value, list(headers))

    def complete(self):
        return all(d.count > 0 for d in self.specs)


def check_delay(specs, strays, send_start, send_end):
    missing = [d.name for d in specs if d.count == 0]
    check(not missing, f"never consumed (30 s after the last due time): {missing}")
    check(not strays, f"unexpected records consumed: {strays}")
    ids, timings, max_immediate = set(), [], 0
    for d in specs:
        what = f"{d.name} ({d.kind})"
        check(d.count == 1, f"{what}: consumed {d.count} times")
        part, key, value, headers = d.got
        check(part == d.partition, f"{what}: produced to partition {d.partition}, consumed from {part}")
        check(key == d.key and value == d.value, f"{what}: key/value {key!r} / {value!r}")
        user = [tuple(h) for h in headers if h[0] not in ("__delay.id", "__delay.fire")]
        ids_h = [h[1] for h in headers if h[0] == "__delay.id"]
        fire_h = [h[1] for h in headers if h[0] == "__delay.fire"]
        check(user == d.headers(), f"{what}: headers {headers}, produced {d.headers()} (+ __delay.id/__delay.fire when delayed)")
        if d.header is None:
            check(not ids_h and not fire_h, f"{what}: a record without delay headers came back with __delay.id {ids_h} / __delay.fire {fire_h}")
            lat = d.at - send_end
            check(lat <= IMMEDIATE_MS, f"{what}: consumed {lat} ms after the produce returned (no delay headers: at once, within {IMMEDIATE_MS} ms)")
            max_immediate = max(max_immediate, lat)
            continue
        early = d.due - d.at
        check(early <= DELAY_EARLY_MS, f"{what}: consumed {early} ms BEFORE its due time (produce started at {send_start}, due {d.due}, "
                                       f"consumed {d.at}; tolerance {DELAY_EARLY_MS} ms)")
        late = d.at - d.due
        check(late <= DELAY_LATE_MS, f"{what}: consumed {late} ms after its due time (tolerance {DELAY_LATE_MS} ms)")
        check(len(ids_h) == 1 and ids_h[0] is not None and ids_h[0].isdigit(), f"{what}: __delay.id headers {ids_h} (want one, decimal)")
        check(ids_h[0] not in ids, f"{what}: __delay.id {ids_h[0]} also on another record")
        ids.add(ids_h[0])
        check(fire_h == ["1"], f"{what}: __delay.fire headers {fire_h} (want one, 1)")
        timings.append(f"{d.name} {late:+d}")
    offs = " ".join(f"{d.name}@{d.offset}" for d in specs)
    return (f"6 delayed records (TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=+2500, DELAY=1; 2 each) consumed once, none early, ms after due: "
            f"{', '.join(timings)}; with key/value/headers + __delay.id/__delay.fire; 4 without delay headers within {max_immediate} ms; "
            f"produce offsets {offs}")
