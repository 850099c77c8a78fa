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
