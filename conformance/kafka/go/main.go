// Conformance driver for the Go clients franz-go (kgo + kadm) and IBM/sarama.
//
//	conformance-go franz|sarama <scenario>
//	env: BOOTSTRAP=host:port, RUN_ID=<unique suffix for topic and group names>
//
// Progress goes to stderr; control lines ({"control":"restart-broker"}, answered by "restarted" on stdin) and one
// final {"ok":bool,"detail":"..."} line go to stdout. See ../README.md for what each scenario checks.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	bootstrap = envOr("BOOTSTRAP", "127.0.0.1:9092")
	runID     = envOr("RUN_ID", strconv.FormatInt(time.Now().UnixMilli(), 36))
	clientTag = "go"
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "["+clientTag+"] "+format+"\n", args...)
}

// failure aborts a scenario with a message (recovered in main).
type failure struct{ msg string }

func check(cond bool, format string, args ...any) {
	if !cond {
		panic(failure{fmt.Sprintf(format, args...)})
	}
}

func must(err error, what string) {
	if err != nil {
		panic(failure{fmt.Sprintf("%s: %v", what, err)})
	}
}

func emit(v any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

type scenarios map[string]func() string

func main() {
	if len(os.Args) < 3 {
		emit(map[string]any{"ok": false, "detail": "usage: conformance-go franz|sarama <scenario>"})
		os.Exit(2)
	}
	var table scenarios
	switch os.Args[1] {
	case "franz":
		clientTag, table = "franz-go", franzScenarios()
	case "sarama":
		clientTag, table = "sarama", saramaScenarios()
	default:
		emit(map[string]any{"ok": false, "detail": "unknown client " + os.Args[1]})
		os.Exit(2)
	}
	fn, ok := table[os.Args[2]]
	if !ok {
		emit(map[string]any{"ok": false, "detail": "unknown scenario " + os.Args[2]})
		os.Exit(2)
	}
	code := 0
	func() {
		defer func() {
			if r := recover(); r != nil {
				code = 1
				if f, ok := r.(failure); ok {
					emit(map[string]any{"ok": false, "detail": f.msg})
					return
				}
				fmt.Fprintf(os.Stderr, "panic: %v\n%s", r, debug.Stack())
				emit(map[string]any{"ok": false, "detail": fmt.Sprintf("panic: %v", r)})
			}
		}()
		detail := fn()
		if strings.HasPrefix(detail, "SKIP:") {
			emit(map[string]any{"ok": false, "skip": strings.TrimSpace(strings.TrimPrefix(detail, "SKIP:")), "detail": ""})
			return
		}
		emit(map[string]any{"ok": true, "detail": detail})
	}()
	os.Exit(code)
}

// ------------------------------------------------------------------ shared record set and checks

type spec struct {
	key, value *string
	headers    [][2]string
	ts         int64 // 0: left to the client (CreateTime = now)
}

func strp(s string) *string { return &s }

// specs is the shared 20-record set of the roundtrip scenario (see README).
func specs(base int64) []spec {
	out := make([]spec, 20)
	for i := range out {
		s := spec{}
		if i%5 != 4 {
			s.key = strp(fmt.Sprintf("key-%d", i))
		}
		switch {
		case i == 7:
		case i == 10:
			s.value = strp("big-" + strings.Repeat("0123456789abcdef", 1250))
		default:
			s.value = strp(fmt.Sprintf("value-%d-\u00e9\u2713", i))
		}
		if i%3 != 0 {
			s.headers = [][2]string{{"h1", fmt.Sprintf("v%d", i)}, {"h2", "\u00fcber"}, {"h1", "dup"}, {"empty", ""}}
		}
		if i%2 == 0 {
			s.ts = base + int64(i)
		}
		out[i] = s
	}
	return out
}

type got struct {
	offset     int64
	key, value []byte // nil = null
	headers    [][2]string
	ts         int64
}

func eqp(p *string, b []byte) bool {
	if p == nil {
		return b == nil
	}
	return b != nil && string(b) == *p
}

func showp(p *string) string {
	if p == nil {
		return "null"
	}
	if len(*p) > 40 {
		return fmt.Sprintf("%q…(%d bytes)", (*p)[:40], len(*p))
	}
	return fmt.Sprintf("%q", *p)
}

func showb(b []byte) string {
	if b == nil {
		return "null"
	}
	s := string(b)
	return showp(&s)
}

func compareRoundtrip(codec string, want []spec, recs []got, before, after int64) {
	check(len(recs) == len(want), "%s: consumed %d records, want %d", codec, len(recs), len(want))
	for i, w := range want {
		r := recs[i]
		where := fmt.Sprintf("%s record %d: ", codec, i)
		check(r.offset == int64(i), where+"offset %d", r.offset)
		check(eqp(w.key, r.key), where+"key %s != %s", showb(r.key), showp(w.key))
		check(eqp(w.value, r.value), where+"value %s != %s", showb(r.value), showp(w.value))
		check(len(r.headers) == len(w.headers), where+"header count %d != %d", len(r.headers), len(w.headers))
		for j := range r.headers {
			check(r.headers[j] == w.headers[j], where+"header %d %q != %q", j, r.headers[j], w.headers[j])
		}
		if w.ts != 0 {
			check(r.ts == w.ts, where+"timestamp %d != %d", r.ts, w.ts)
		} else {
			check(r.ts >= before-5000 && r.ts <= after+5000, where+"timestamp %d outside [%d,%d] ± 5 s", r.ts, before, after)
		}
	}
}

type orec struct {
	partition int32
	offset    int64
	key       string
	value     string
}

func checkOrder(recs []orec, n, parts int) string {
	check(len(recs) == n, "consumed %d records, want %d", len(recs), n)
	seen := make([]bool, n)
	lastOff := map[int32]int64{}
	lastVal := map[int32]int{}
	keyPart := map[string]int32{}
	for _, r := range recs {
		v, err := strconv.Atoi(r.value)
		check(err == nil && v >= 0 && v < n, "bad value %q", r.value)
		check(!seen[v], "record %d consumed twice", v)
		seen[v] = true
		check(r.key == fmt.Sprintf("key-%d", v%1000), "record %d has key %s", v, r.key)
		if lo, ok := lastOff[r.partition]; ok {
			check(r.offset == lo+1, "partition %d: offset %d after %d", r.partition, r.offset, lo)
			check(v > lastVal[r.partition], "partition %d: record %d after %d (order broken)", r.partition, v, lastVal[r.partition])
		}
		lastOff[r.partition], lastVal[r.partition] = r.offset, v
		if kp, ok := keyPart[r.key]; ok {
			check(kp == r.partition, "key %s in partitions %d and %d", r.key, kp, r.partition)
		}
		keyPart[r.key] = r.partition
	}
	check(len(lastOff) == parts, "records landed in %d partitions, want %d", len(lastOff), parts)
	return fmt.Sprintf("%d records over %d partitions, per-partition order and completeness ok", n, parts)
}

// offsetsExactly checks that per partition the consumed offsets are exactly from..to-1, once each.
func offsetsExactly(phase string, byPart map[int32][]int64, parts int, from, to int64) {
	for p := int32(0); p < int32(parts); p++ {
		l := append([]int64(nil), byPart[p]...)
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		ok := int64(len(l)) == to-from
		for i := 0; ok && i < len(l); i++ {
			ok = l[i] == from+int64(i)
		}
		desc := "[]"
		if len(l) > 0 {
			desc = fmt.Sprintf("[%d offsets, %d..%d]", len(l), l[0], l[len(l)-1])
		}
		check(ok, "%s, partition %d consumed offsets %s, want %d..%d once", phase, p, desc, from, to-1)
	}
}

var stdin = bufio.NewReader(os.Stdin)

func restartBroker() {
	emit(map[string]any{"control": "restart-broker"})
	line, _ := stdin.ReadString('\n')
	check(strings.TrimSpace(line) == "restarted", "runner did not restart the broker: %q", line)
	logf("broker restarted")
}

func waitFor(timeout time.Duration, what string, cond func() bool, state func() string) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		check(time.Now().Before(deadline), "timed out waiting for %s; %s", what, state())
		time.Sleep(50 * time.Millisecond)
	}
}

func disjointCover(assign [][]int32, parts int) bool {
	seen := map[int32]bool{}
	total := 0
	for _, a := range assign {
		if len(a) == 0 {
			return false
		}
		total += len(a)
		for _, p := range a {
			seen[p] = true
		}
	}
	return total == parts && len(seen) == parts
}

func showAssign(names []string, assign [][]int32) string {
	var parts []string
	for i, a := range assign {
		s := append([]int32(nil), a...)
		sort.Slice(s, func(x, y int) bool { return s[x] < s[y] })
		var ps []string
		for _, p := range s {
			ps = append(ps, strconv.Itoa(int(p)))
		}
		parts = append(parts, names[i]+"="+strings.Join(ps, ","))
	}
	return strings.Join(parts, " ")
}
