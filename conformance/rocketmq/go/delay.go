package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// Tolerances of the delay scenario (see ../README.md and the Java driver, which has the same ones).
const (
	delayEarlyTolerance = 50 * time.Millisecond
	// Apache RocketMQ 5.3.3 rounds a timer message's delivery time down to its timerPrecisionMs (1 s), so its timer
	// messages may come up to 1 s early; only the reference gets that allowance.
	apacheTimerEarly    = time.Second
	delayLateTolerance  = 5 * time.Second
	delayImmediateBound = 2 * time.Second
)

type delayCase struct {
	body, kind       string
	msg              *primitive.Message
	delayed          bool
	sendStart, sent  time.Time
	due              time.Time
	early            time.Duration
	queue            int
	msgID            string
	keys, tag, level string
}

type delayRecv struct {
	at time.Time
	m  *primitive.MessageExt
}

// scenarioDelay: delay levels 1 and 2 (WithDelayTimeLevel), the timer properties TIMER_DELIVER_MS /
// TIMER_DELAY_SEC / TIMER_DELAY_MS set with WithProperty (the client has no timer API), three messages without
// delay; a push consumer that is already consuming must see each once, not before its due time and at most
// delayLateTolerance after it, on its topic and queue with body, keys, tag, user properties and msgId intact.
func scenarioDelay() string {
	apache := target == "rocketmq"
	topic := name("delay")
	createTopic(topic, 2)
	var mu sync.Mutex
	got := map[string][]delayRecv{}
	c := newPush(name("delay_cg"), "dl1")
	must(c.Subscribe(topic, all, func(_ context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		now := time.Now()
		mu.Lock()
		for _, m := range msgs {
			got[string(m.Body)] = append(got[string(m.Body)], delayRecv{now, m})
		}
		mu.Unlock()
		return consumer.ConsumeSuccess, nil
	}), "Subscribe")
	must(c.Start(), "consumer Start")
	defer c.Shutdown()
	p := newProducer(name("delay_pg"))
	defer p.Shutdown()
	has := func(body string) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[body]) > 0
	}
	// Warm-up: the consumer has its queues and is pulling before any timing starts.
	sendSync(p, primitive.NewMessage(topic, []byte("warm-up")).WithTag("TagW"))
	waitFor(60*time.Second, "the warm-up message", func() bool { return has("warm-up") }, func() string { return "nothing consumed yet" })
	logf("consumer ready")

	mk := func(body, kind, tag, keys string) *delayCase {
		d := &delayCase{body: body + "-\u00e9\u2713", kind: kind, tag: tag, keys: keys, delayed: kind != "no delay", early: delayEarlyTolerance}
		d.msg = primitive.NewMessage(topic, []byte(d.body)).WithTag(tag).WithKeys([]string{keys})
		d.msg.WithProperty("kind", kind)
		d.msg.WithProperty("utf8", "\u00fcber \u4e2d\u6587")
		return d
	}
	var cases []*delayCase
	rel := map[*delayCase]time.Duration{}
	for lvl := 1; lvl <= 2; lvl++ {
		for i := 0; i < 2; i++ {
			d := mk(fmt.Sprintf("level%d-%d", lvl, i), fmt.Sprintf("level %d", lvl), fmt.Sprintf("TagL%d", lvl), fmt.Sprintf("dk-l%d-%d", lvl, i))
			d.msg.WithDelayTimeLevel(lvl)
			d.level = strconv.Itoa(lvl)
			rel[d] = map[int]time.Duration{1: time.Second, 2: 5 * time.Second}[lvl]
			cases = append(cases, d)
		}
	}
	deliver := mk("timer-deliver", "TIMER_DELIVER_MS", "TagT", "dk-deliver")
	sec := mk("timer-sec", "TIMER_DELAY_SEC", "TagT", "dk-sec")
	sec.msg.WithProperty("TIMER_DELAY_SEC", "2")
	rel[sec] = 2 * time.Second
	ms := mk("timer-ms", "TIMER_DELAY_MS", "TagT", "dk-ms")
	ms.msg.WithProperty("TIMER_DELAY_MS", "2500")
	rel[ms] = 2500 * time.Millisecond
	cases = append(cases, deliver, sec, ms)
	for _, d := range []*delayCase{deliver, sec, ms} {
		if apache {
			d.early = apacheTimerEarly + delayEarlyTolerance
		}
	}
	for i := 0; i < 3; i++ {
		cases = append(cases, mk(fmt.Sprintf("now-%d", i), "no delay", "TagN", fmt.Sprintf("dk-now-%d", i)))
	}
	byName := map[string]*delayCase{}
	for _, d := range cases {
		byName[strings.TrimSuffix(d.body, "-\u00e9\u2713")] = d
	}
	for _, n := range []string{"level2-0", "now-0", "level1-0", "timer-deliver", "timer-sec", "now-1", "timer-ms", "level1-1", "level2-1", "now-2"} {
		d := byName[n]
		if d == deliver {
			at := time.Now().Add(3 * time.Second)
			d.msg.WithProperty("TIMER_DELIVER_MS", strconv.FormatInt(at.UnixMilli(), 10))
			d.due = at
		}
		d.sendStart = time.Now()
		res := sendSync(p, d.msg)
		d.sent = time.Now()
		if d != deliver {
			d.due = d.sendStart.Add(rel[d])
		}
		d.queue, d.msgID = res.MessageQueue.QueueId, res.MsgID
	}
	lastDue := time.Now()
	for _, d := range cases {
		if d.due.After(lastDue) {
			lastDue = d.due
		}
	}
	logf("sent %d messages; last due in %s", len(cases), time.Until(lastDue).Round(time.Millisecond))
	missing := func() []string {
		var out []string
		for _, d := range cases {
			if !has(d.body) {
				out = append(out, d.body)
			}
		}
		return out
	}
	waitFor(time.Until(lastDue)+60*time.Second, fmt.Sprintf("all %d messages", len(cases)), func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("missing %v", missing()) })
	time.Sleep(2 * time.Second) // duplicates
	mu.Lock()
	defer mu.Unlock()
	for body := range got {
		_, ok := byName[strings.TrimSuffix(body, "-\u00e9\u2713")]
		check(ok || body == "warm-up", "unexpected message consumed: %q", body)
	}
	var timings []string
	delayProp := map[string]bool{}
	var maxImmediate time.Duration
	for _, d := range cases {
		rs := got[d.body]
		what := fmt.Sprintf("%s (%s)", d.body, d.kind)
		check(len(rs) == 1, "%s: delivered %d times", what, len(rs))
		r, m := rs[0], rs[0].m
		props := m.GetProperties()
		check(m.Topic == topic, "%s: consumed from topic %s", what, m.Topic)
		check(m.Queue != nil && m.Queue.QueueId == d.queue, "%s: sent to queue %d, consumed from %v", what, d.queue, m.Queue)
		check(m.GetKeys() == d.keys && m.GetTags() == d.tag, "%s: keys/tag %q/%q", what, m.GetKeys(), m.GetTags())
		check(props["kind"] == d.kind && props["utf8"] == "\u00fcber \u4e2d\u6587", "%s: user properties %v", what, props)
		check(m.MsgId == d.msgID, "%s: msgId %s, send result %s", what, m.MsgId, d.msgID)
		check(m.ReconsumeTimes == 0, "%s: reconsumeTimes %d", what, m.ReconsumeTimes)
		if !d.delayed {
			lat := r.at.Sub(d.sent)
			check(lat <= delayImmediateBound, "%s: consumed %s after its send returned (no delay: within %s)", what, lat, delayImmediateBound)
			if lat > maxImmediate {
				maxImmediate = lat
			}
			continue
		}
		// Apache keeps DELAY=<level> on the delivered message; Diglot's contract removes it. Either is accepted.
		dl, kept := props["DELAY"]
		check(!kept || dl == d.level, "%s: DELAY property %q on the delivered message, sent %q", what, dl, d.level)
		if d.level != "" {
			delayProp[map[bool]string{true: "kept", false: "removed"}[kept]] = true
		}
		check(props["REAL_TOPIC"] == topic, "%s: REAL_TOPIC %q (RocketMQ sets it to the topic sent to)", what, props["REAL_TOPIC"])
		check(props["REAL_QID"] == strconv.Itoa(d.queue), "%s: REAL_QID %q, sent to queue %d", what, props["REAL_QID"], d.queue)
		early := d.due.Sub(r.at)
		check(early <= d.early, "%s: consumed %d ms BEFORE its due time (sent at %s, due %s, consumed %s; tolerance %d ms)", what,
			early.Milliseconds(), d.sendStart.Format("15:04:05.000"), d.due.Format("15:04:05.000"), r.at.Format("15:04:05.000"), d.early.Milliseconds())
		late := r.at.Sub(d.due)
		check(late <= delayLateTolerance, "%s: consumed %d ms after its due time (tolerance %s)", what, late.Milliseconds(), delayLateTolerance)
		timings = append(timings, fmt.Sprintf("%s %+d", strings.TrimSuffix(d.body, "-\u00e9\u2713"), late.Milliseconds()))
	}
	var dp []string
	for k := range delayProp {
		dp = append(dp, k)
	}
	sort.Strings(dp)
	note := ""
	if apache {
		note = " (Apache rounds timer times down to 1 s: allowed 1 s early)"
	}
	return fmt.Sprintf("10 messages (delay level 1 ×2, level 2 ×2, TIMER_DELIVER_MS/TIMER_DELAY_SEC/TIMER_DELAY_MS set with WithProperty, 3 without delay) each consumed once on its topic/queue with keys, tag, properties, msgId, REAL_TOPIC/REAL_QID; DELAY property %s on delivery; ms after due: %s%s; no-delay messages within %d ms",
		strings.Join(dp, "/"), strings.Join(timings, ", "), note, maxImmediate.Milliseconds())
}
