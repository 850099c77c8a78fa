package main

// The delay scenario (README "delay") for franz-go and sarama: the shared record set, the checks, and one driver each.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	delayEarlyMs = 50   // a delayed record may be seen this much before its due time
	delayLateMs  = 5000 // ... and at most this long after it
	immediateMs  = 2000 // a record without delay headers: consumed within this long after the produce returned
)

type dspec struct {
	name        string
	partition   int32
	header      string // "" = no delay header
	headerValue string
	rel         int64 // relative delay in ms; -1: TIMER_DELIVER_MS (absolute, set at produce time)
	due         int64
	offset      int64
	// first delivery
	count     int
	at        int64
	gotPart   int32
	gotKey    string
	gotValue  string
	gotHeader [][2]string
}

func (d *dspec) key() string   { return "dk-" + d.name }
func (d *dspec) value() string { return d.name + "-\u00e9\u2713" }
func (d *dspec) kind() string {
	if d.header == "" {
		return "none"
	}
	return d.header
}

func (d *dspec) headers() [][2]string {
	h := [][2]string{{"kind", d.kind()}}
	if d.header != "" {
		h = append(h, [2]string{d.header, d.headerValue})
	}
	return append(h, [2]string{"u", "\u00fcber \u2713"})
}

// setDue fixes the due time just before the record is handed to the producer.
func (d *dspec) setDue(sendStart int64) {
	if d.rel < 0 {
		d.due = time.Now().UnixMilli() + 2500
		d.headerValue = strconv.FormatInt(d.due, 10)
	} else {
		d.due = sendStart + d.rel
	}
}

// delaySpecs is the shared record set in produce order: 2 each of TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=now+2500,
// DELAY=1, and 4 without delay headers, over partitions 0 and 1.
func delaySpecs() []*dspec {
	return []*dspec{
		{name: "now-0", partition: 0}, {name: "ms-0", partition: 0, header: "TIMER_DELAY_MS", headerValue: "1500", rel: 1500},
		{name: "at-1", partition: 1, header: "TIMER_DELIVER_MS", rel: -1}, {name: "lvl-0", partition: 0, header: "DELAY", headerValue: "1", rel: 1000},
		{name: "now-1", partition: 1}, {name: "ms-1", partition: 1, header: "TIMER_DELAY_MS", headerValue: "1500", rel: 1500},
		{name: "at-0", partition: 0, header: "TIMER_DELIVER_MS", rel: -1}, {name: "lvl-1", partition: 1, header: "DELAY", headerValue: "1", rel: 1000},
		{name: "now-2", partition: 0}, {name: "now-3", partition: 1},
	}
}

type delayCollector struct {
	mu      sync.Mutex
	byValue map[string]*dspec
	specs   []*dspec
	warm    map[string]bool
	strays  []string
}

func newDelayCollector(specs []*dspec) *delayCollector {
	c := &delayCollector{byValue: map[string]*dspec{}, specs: specs, warm: map[string]bool{}}
	for _, d := range specs {
		c.byValue[d.value()] = d
	}
	return c
}

func (c *delayCollector) add(at int64, part int32, offset int64, key, value string, headers [][2]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.HasPrefix(value, "warm-up-") {
		c.warm[value] = true
		return
	}
	d := c.byValue[value]
	if d == nil {
		c.strays = append(c.strays, fmt.Sprintf("%d@%d %s", part, offset, value))
		return
	}
	d.count++
	if d.count == 1 {
		d.at, d.gotPart, d.gotKey, d.gotValue, d.gotHeader = at, part, key, value, headers
	}
}

func (c *delayCollector) warmCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.warm)
}

func (c *delayCollector) complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.specs {
		if d.count == 0 {
			return false
		}
	}
	return true
}

// awaitDelay waits until every record came (then 1.5 s more for duplicates) or 30 s after the last due time.
func (c *delayCollector) await() {
	var last int64
	for _, d := range c.specs {
		if d.due > last {
			last = d.due
		}
	}
	for time.Now().UnixMilli() < last+30000 && !c.complete() {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
}

var decimal = regexp.MustCompile(`^[0-9]+$`)

func (c *delayCollector) check(sendStart, sendEnd int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var missing []string
	for _, d := range c.specs {
		if d.count == 0 {
			missing = append(missing, d.name)
		}
	}
	check(len(missing) == 0, "never consumed (30 s after the last due time): %v", missing)
	check(len(c.strays) == 0, "unexpected records consumed: %v", c.strays)
	ids := map[string]bool{}
	var timings, offs []string
	var maxImmediate int64
	for _, d := range c.specs {
		what := fmt.Sprintf("%s (%s)", d.name, d.kind())
		offs = append(offs, fmt.Sprintf("%s@%d", d.name, d.offset))
		check(d.count == 1, "%s: consumed %d times", what, d.count)
		check(d.gotPart == d.partition, "%s: produced to partition %d, consumed from %d", what, d.partition, d.gotPart)
		check(d.gotKey == d.key() && d.gotValue == d.value(), "%s: key/value %q / %q", what, d.gotKey, d.gotValue)
		var user [][2]string
		var idH, fireH []string
		for _, h := range d.gotHeader {
			switch h[0] {
			case "__delay.id":
				idH = append(idH, h[1])
			case "__delay.fire":
				fireH = append(fireH, h[1])
			default:
				user = append(user, h)
			}
		}
		want := d.headers()
		same := len(user) == len(want)
		for i := 0; same && i < len(want); i++ {
			same = user[i] == want[i]
		}
		check(same, "%s: headers %q, produced %q (+ __delay.id/__delay.fire when delayed)", what, d.gotHeader, want)
		if d.header == "" {
			check(len(idH) == 0 && len(fireH) == 0, "%s: a record without delay headers came back with __delay.id %v / __delay.fire %v", what, idH, fireH)
			lat := d.at - sendEnd
			check(lat <= immediateMs, "%s: consumed %d ms after the produce returned (no delay headers: at once, within %d ms)", what, lat, immediateMs)
			if lat > maxImmediate {
				maxImmediate = lat
			}
			continue
		}
		early := d.due - d.at
		check(early <= delayEarlyMs, "%s: consumed %d ms BEFORE its due time (produce started at %d, due %d, consumed %d; tolerance %d ms)",
			what, early, sendStart, d.due, d.at, delayEarlyMs)
		late := d.at - d.due
		check(late <= delayLateMs, "%s: consumed %d ms after its due time (tolerance %d ms)", what, late, delayLateMs)
		check(len(idH) == 1 && decimal.MatchString(idH[0]), "%s: __delay.id headers %q (want one, decimal)", what, idH)
		check(!ids[idH[0]], "%s: __delay.id %s also on another record", what, idH[0])
		ids[idH[0]] = true
		check(len(fireH) == 1 && fireH[0] == "1", "%s: __delay.fire headers %q (want one, 1)", what, fireH)
		timings = append(timings, fmt.Sprintf("%s %+d", d.name, late))
	}
	return fmt.Sprintf("6 delayed records (TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=+2500, DELAY=1; 2 each) consumed once, none early, ms after due: %s; with key/value/headers + __delay.id/__delay.fire; 4 without delay headers within %d ms; produce offsets %s",
		strings.Join(timings, ", "), maxImmediate, strings.Join(offs, " "))
}

var delayTopicConfig = map[string]*string{"diglot.delay.enable": strp("true")}

// ------------------------------------------------------------------ franz-go

func franzDelay() string {
	topic := "delay-franz-" + runID
	adm := kadm.NewClient(franzClient())
	franzCreateTopic(adm, topic, 2, delayTopicConfig)
	adm.Close()
	specs := delaySpecs()
	col := newDelayCollector(specs)
	cons := franzClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100*time.Millisecond))
	defer cons.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			fs := cons.PollFetches(ctxT(200 * time.Millisecond))
			at := time.Now().UnixMilli()
			fs.EachRecord(func(r *kgo.Record) {
				var hs [][2]string
				for _, h := range r.Headers {
					hs = append(hs, [2]string{h.Key, string(h.Value)})
				}
				col.add(at, r.Partition, r.Offset, string(r.Key), string(r.Value), hs)
			})
		}
	}()
	prod := franzClient(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	defer prod.Close()
	franzProduceSync(prod, []*kgo.Record{{Topic: topic, Partition: 0, Key: []byte("warm"), Value: []byte("warm-up-0")}, {Topic: topic, Partition: 1, Key: []byte("warm"), Value: []byte("warm-up-1")}})
	waitFor(30*time.Second, "the 2 warm-up records (no delay headers)", func() bool { return col.warmCount() >= 2 }, func() string { return fmt.Sprint(col.warmCount()) })
	logf("consumer ready")
	sendStart := time.Now().UnixMilli()
	var recs []*kgo.Record
	for _, d := range specs {
		d.setDue(sendStart)
		r := &kgo.Record{Topic: topic, Partition: d.partition, Key: []byte(d.key()), Value: []byte(d.value())}
		for _, h := range d.headers() {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
		}
		recs = append(recs, r)
	}
	res := prod.ProduceSync(ctxT(30*time.Second), recs...)
	sendEnd := time.Now().UnixMilli()
	for i, r := range res {
		must(r.Err, "produce "+specs[i].name)
		specs[i].offset = r.Record.Offset
	}
	logf("produced %d records in %d ms", len(specs), sendEnd-sendStart)
	col.await()
	close(stop)
	<-done
	return col.check(sendStart, sendEnd)
}

// ------------------------------------------------------------------ sarama

func saramaDelay() string {
	topic := "delay-sarama-" + runID
	a := saramaAdminClient()
	saramaCreateTopic(a, topic, 2, delayTopicConfig)
	a.Close()
	specs := delaySpecs()
	col := newDelayCollector(specs)
	conf := saramaConfig()
	conf.Consumer.MaxWaitTime = 100 * time.Millisecond
	c, err := sarama.NewConsumer([]string{bootstrap}, conf)
	must(err, "NewConsumer")
	defer c.Close()
	for _, part := range []int32{0, 1} {
		pc, err := c.ConsumePartition(topic, part, sarama.OffsetOldest)
		must(err, fmt.Sprintf("ConsumePartition %d", part))
		defer pc.AsyncClose()
		go func(pc sarama.PartitionConsumer) {
			for m := range pc.Messages() {
				at := time.Now().UnixMilli()
				var hs [][2]string
				for _, h := range m.Headers {
					hs = append(hs, [2]string{string(h.Key), string(h.Value)})
				}
				col.add(at, m.Partition, m.Offset, string(m.Key), string(m.Value), hs)
			}
		}(pc)
		go func(pc sarama.PartitionConsumer) {
			for e := range pc.Errors() {
				logf("consume error: %v", e)
			}
		}(pc)
	}
	p := saramaSyncProducer(func(c *sarama.Config) { c.Producer.Flush.Frequency = 5 * time.Millisecond })
	defer p.Close()
	must(p.SendMessages([]*sarama.ProducerMessage{
		{Topic: topic, Partition: 0, Key: sarama.StringEncoder("warm"), Value: sarama.StringEncoder("warm-up-0")},
		{Topic: topic, Partition: 1, Key: sarama.StringEncoder("warm"), Value: sarama.StringEncoder("warm-up-1")},
	}), "send warm-up")
	waitFor(30*time.Second, "the 2 warm-up records (no delay headers)", func() bool { return col.warmCount() >= 2 }, func() string { return fmt.Sprint(col.warmCount()) })
	logf("consumer ready")
	sendStart := time.Now().UnixMilli()
	var msgs []*sarama.ProducerMessage
	for _, d := range specs {
		d.setDue(sendStart)
		m := &sarama.ProducerMessage{Topic: topic, Partition: d.partition, Key: sarama.StringEncoder(d.key()), Value: sarama.StringEncoder(d.value())}
		for _, h := range d.headers() {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		msgs = append(msgs, m)
	}
	must(p.SendMessages(msgs), "SendMessages")
	sendEnd := time.Now().UnixMilli()
	for i, m := range msgs {
		specs[i].offset = m.Offset
	}
	logf("produced %d records in %d ms", len(specs), sendEnd-sendStart)
	col.await()
	return col.check(sendStart, sendEnd)
}
