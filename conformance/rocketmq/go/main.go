// Conformance driver for the Go RocketMQ remoting client apache/rocketmq-client-go/v2 (plus franz-go for the
// cross-protocol scenario).
//
//	conformance-go <scenario>
//	env: NAMESRV=host:port (name server), KAFKA_BOOTSTRAP=host:port (Kafka listener of the same broker; empty
//	     when the target has none), RUN_ID=<unique suffix for topic and group names>, CONFORMANCE_TARGET=diglot|rocketmq
//
// Progress goes to stderr; control lines ({"control":"restart-broker"}, answered by "restarted" on stdin) and one
// final {"ok":bool,"detail":"..."} or {"skip":"reason"} line go to stdout.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

var (
	namesrv        = envOr("NAMESRV", "127.0.0.1:9876")
	kafkaBootstrap = os.Getenv("KAFKA_BOOTSTRAP")
	runID          = sanitize(envOr("RUN_ID", strconv.FormatInt(time.Now().UnixMilli(), 36)))
	target         = envOr("CONFORMANCE_TARGET", "diglot")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func sanitize(s string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(s, "_")
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[go %s] %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// failure aborts a scenario with a message (recovered in main); skipped ends it with {"skip":...}.
type failure struct{ msg string }
type skipped struct{ reason string }

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

func skip(format string, args ...any) { panic(skipped{fmt.Sprintf(format, args...)}) }

var stdoutMu sync.Mutex

func emit(v any) {
	b, _ := json.Marshal(v)
	stdoutMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	stdoutMu.Unlock()
}

var scenarios = map[string]func() string{
	"send":        scenarioSend,
	"cluster":     scenarioCluster,
	"broadcast":   scenarioBroadcast,
	"orderly":     scenarioOrderly,
	"litepull":    scenarioLitePull,
	"filter-tag":  scenarioFilterTag,
	"filter-sql":  scenarioFilterSQL,
	"retry-dlq":   scenarioRetryDLQ,
	"delay":       scenarioDelay,
	"query":       scenarioQuery,
	"cross-kafka": scenarioCrossKafka,
}

func main() {
	if len(os.Args) < 2 {
		emit(map[string]any{"ok": false, "detail": "usage: conformance-go <scenario>"})
		os.Exit(2)
	}
	fn, ok := scenarios[os.Args[1]]
	if !ok {
		emit(map[string]any{"ok": false, "detail": "unknown scenario " + os.Args[1]})
		os.Exit(2)
	}
	// The client logs through logrus to stderr; keep it to warnings and errors.
	rlog.SetLogLevel(envOr("RLOG_LEVEL", "error"))
	logf("scenario %s, NAMESRV=%s KAFKA_BOOTSTRAP=%q RUN_ID=%s target=%s", os.Args[1], namesrv, kafkaBootstrap, runID, target)
	code := 0
	func() {
		defer func() {
			if r := recover(); r != nil {
				switch f := r.(type) {
				case failure:
					code = 1
					emit(map[string]any{"ok": false, "detail": f.msg})
				case skipped:
					emit(map[string]any{"skip": f.reason})
				default:
					code = 1
					fmt.Fprintf(os.Stderr, "panic: %v\n%s", r, debug.Stack())
					emit(map[string]any{"ok": false, "detail": fmt.Sprintf("panic: %v", r)})
				}
			}
		}()
		detail := fn()
		emit(map[string]any{"ok": true, "detail": detail})
	}()
	os.Exit(code)
}

// ------------------------------------------------------------------ runner control

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
		check(time.Now().Before(deadline), "timed out after %s waiting for %s; %s", timeout, what, state())
		time.Sleep(100 * time.Millisecond)
	}
}

func name(kind string) string { return fmt.Sprintf("go_%s_%s", kind, runID) }

// ------------------------------------------------------------------ topics

// brokerAddrs asks the name server for the master addresses: GET_BROKER_CLUSTER_INFO (106), falling back to the
// route of TBW102 (105). The client library has no public call for this, so it is a minimal remoting exchange.
func brokerAddrs() []string {
	for _, req := range []struct {
		code int
		ext  map[string]string
	}{{106, map[string]string{}}, {105, map[string]string{"topic": "TBW102"}}} {
		body, code, err := remotingCall(namesrv, req.code, req.ext)
		if err != nil || code != 0 {
			logf("name server request %d: code %d err %v", req.code, code, err)
			continue
		}
		// brokerAddrs maps the broker id to the address; fastjson writes the numeric key unquoted ({0:"h:p"}).
		re := regexp.MustCompile(`"brokerAddrs"\s*:\s*\{[^}]*?"?0"?\s*:\s*"([^"]+)"`)
		var out []string
		seen := map[string]bool{}
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
		if len(out) > 0 {
			sort.Strings(out)
			return out
		}
		logf("no master address in the reply to %d: %.300s", req.code, body)
	}
	panic(failure{"could not find a master broker address from the name server (codes 106, 105 TBW102)"})
}

// remotingCall sends one JSON-header request and returns the response body and code.
func remotingCall(addr string, code int, ext map[string]string) ([]byte, int, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, -1, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	hdr, _ := json.Marshal(map[string]any{"code": code, "language": "GO", "version": 317, "opaque": 1, "flag": 0, "remark": "", "extFields": ext})
	frame := make([]byte, 8+len(hdr))
	binary.BigEndian.PutUint32(frame[0:], uint32(4+len(hdr)))
	binary.BigEndian.PutUint32(frame[4:], uint32(len(hdr)))
	copy(frame[8:], hdr)
	if _, err := conn.Write(frame); err != nil {
		return nil, -1, err
	}
	var lenbuf [8]byte
	if _, err := io.ReadFull(conn, lenbuf[:]); err != nil {
		return nil, -1, err
	}
	total := int(binary.BigEndian.Uint32(lenbuf[0:]))
	hlen := int(binary.BigEndian.Uint32(lenbuf[4:]) & 0xFFFFFF)
	rest := make([]byte, total-4)
	if _, err := io.ReadFull(conn, rest); err != nil {
		return nil, -1, err
	}
	var h struct {
		Code   int    `json:"code"`
		Remark string `json:"remark"`
	}
	if err := json.Unmarshal(rest[:hlen], &h); err != nil {
		return nil, -1, fmt.Errorf("bad response header %q: %v", rest[:hlen], err)
	}
	return rest[hlen:], h.Code, nil
}

var adminOnce struct {
	sync.Once
	a admin.Admin
}

func getAdmin() admin.Admin {
	adminOnce.Do(func() {
		a, err := admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver([]string{namesrv})))
		must(err, "admin.NewAdmin")
		adminOnce.a = a
	})
	return adminOnce.a
}

// createTopic creates the topic with n read/write queues on every master (admin.CreateTopic = request code 17)
// and waits until the name server routes it with n queues.
func createTopic(topic string, n int) {
	a := getAdmin()
	for _, addr := range brokerAddrs() {
		err := a.CreateTopic(context.Background(), admin.WithTopicCreate(topic), admin.WithBrokerAddrCreate(addr),
			admin.WithReadQueueNums(n), admin.WithWriteQueueNums(n))
		must(err, "admin.CreateTopic "+topic+" on "+addr)
	}
	var last string
	waitFor(30*time.Second, "route of "+topic+" after admin.CreateTopic (UPDATE_AND_CREATE_TOPIC 17; the client ignores its response code)", func() bool {
		mqs, err := a.FetchPublishMessageQueues(context.Background(), topic)
		last = fmt.Sprintf("%d queues, err %v", len(mqs), err)
		return err == nil && len(mqs) == n
	}, func() string { return last })
	logf("topic %s created with %d queues", topic, n)
}

func queuesOf(topic string) []*primitive.MessageQueue {
	mqs, err := getAdmin().FetchPublishMessageQueues(context.Background(), topic)
	must(err, "FetchPublishMessageQueues "+topic)
	sort.Slice(mqs, func(i, j int) bool {
		if mqs[i].BrokerName != mqs[j].BrokerName {
			return mqs[i].BrokerName < mqs[j].BrokerName
		}
		return mqs[i].QueueId < mqs[j].QueueId
	})
	return mqs
}

// ------------------------------------------------------------------ received-message bookkeeping

type recv struct {
	consumer  string
	body      string
	msgID     string
	keys      string
	tags      string
	props     map[string]string
	queue     int
	offset    int64
	reconsume int32
	topic     string
}

type collector struct {
	mu   sync.Mutex
	list []recv
}

func (c *collector) add(consumer string, msgs ...*primitive.MessageExt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		q := -1
		if m.Queue != nil {
			q = m.Queue.QueueId
		}
		c.list = append(c.list, recv{consumer: consumer, body: string(m.Body), msgID: m.MsgId, keys: m.GetKeys(), tags: m.GetTags(),
			props: m.GetProperties(), queue: q, offset: m.QueueOffset, reconsume: m.ReconsumeTimes, topic: m.Topic})
	}
}

func (c *collector) snapshot() []recv {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recv(nil), c.list...)
}

// distinct counts the distinct bodies with the given prefix (and all bodies if prefix is "").
func (c *collector) distinct(prefix string) int {
	seen := map[string]bool{}
	for _, r := range c.snapshot() {
		if strings.HasPrefix(r.body, prefix) {
			seen[r.body] = true
		}
	}
	return len(seen)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.list)
}
