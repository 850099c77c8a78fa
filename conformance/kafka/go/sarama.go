package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func saramaScenarios() scenarios {
	return scenarios{
		"roundtrip":      saramaRoundtrip,
		"idempotent":     saramaIdempotent,
		"order100k":      saramaOrder100k,
		"group":          saramaGroup,
		"seek-timestamp": saramaSeekTimestamp,
		"admin":          saramaAdmin,
		"groups-admin":   saramaGroupsAdmin,
		"delay":          saramaDelay,
	}
}

// saramaConfig keeps sarama's default protocol version (V2_8_0_0 in this release): what users get.
func saramaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "conformance-sarama"
	c.Net.DialTimeout = 10 * time.Second
	c.Net.ReadTimeout = 30 * time.Second
	c.Metadata.Retry.Max = 10
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Retry.Max = 10
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.MaxWaitTime = 200 * time.Millisecond
	return c
}

func saramaAdminClient() sarama.ClusterAdmin {
	a, err := sarama.NewClusterAdmin([]string{bootstrap}, saramaConfig())
	must(err, "NewClusterAdmin")
	return a
}

func saramaCreateTopic(a sarama.ClusterAdmin, topic string, parts int32, configs map[string]*string) {
	must(a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1, ConfigEntries: configs}, false), "CreateTopic "+topic)
	waitFor(20*time.Second, "topic "+topic+" with leaders", func() bool {
		md, err := a.DescribeTopics([]string{topic})
		if err != nil || len(md) != 1 || md[0].Err != sarama.ErrNoError || len(md[0].Partitions) != int(parts) {
			return false
		}
		for _, p := range md[0].Partitions {
			if p.Leader < 0 {
				return false
			}
		}
		return true
	}, func() string { return "" })
}

func saramaSyncProducer(mod func(*sarama.Config)) sarama.SyncProducer {
	c := saramaConfig()
	c.Producer.Partitioner = sarama.NewManualPartitioner
	if mod != nil {
		mod(c)
	}
	p, err := sarama.NewSyncProducer([]string{bootstrap}, c)
	must(err, "NewSyncProducer")
	return p
}

func saramaConsumeAssigned(topic string, parts []int32, want int, timeout time.Duration) []*sarama.ConsumerMessage {
	c, err := sarama.NewConsumer([]string{bootstrap}, saramaConfig())
	must(err, "NewConsumer")
	defer c.Close()
	ch := make(chan *sarama.ConsumerMessage, 1024)
	var pcs []sarama.PartitionConsumer
	for _, p := range parts {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		must(err, fmt.Sprintf("ConsumePartition %d", p))
		pcs = append(pcs, pc)
		go func(pc sarama.PartitionConsumer) {
			for m := range pc.Messages() {
				ch <- m
			}
		}(pc)
		go func(pc sarama.PartitionConsumer) {
			for e := range pc.Errors() {
				logf("consume error: %v", e)
			}
		}(pc)
	}
	var out []*sarama.ConsumerMessage
	deadline := time.After(timeout)
	var linger <-chan time.Time
loop:
	for {
		select {
		case m := <-ch:
			out = append(out, m)
			if len(out) >= want && linger == nil {
				linger = time.After(500 * time.Millisecond)
			}
		case <-linger:
			break loop
		case <-deadline:
			break loop
		}
	}
	for _, pc := range pcs {
		pc.AsyncClose()
	}
	return out
}

func saramaRoundtrip() string {
	a := saramaAdminClient()
	defer a.Close()
	codecs := []struct {
		name string
		c    sarama.CompressionCodec
	}{{"none", sarama.CompressionNone}, {"gzip", sarama.CompressionGZIP}, {"snappy", sarama.CompressionSnappy}, {"lz4", sarama.CompressionLZ4}, {"zstd", sarama.CompressionZSTD}}
	var done []string
	for _, codec := range codecs {
		topic := "rt-" + codec.name + "-sarama-" + runID
		saramaCreateTopic(a, topic, 1, nil)
		base := time.Now().UnixMilli() - 3_600_000
		want := specs(base)
		before := time.Now().UnixMilli()
		p := saramaSyncProducer(func(c *sarama.Config) {
			c.Producer.Compression = codec.c
			c.Producer.Flush.Frequency = 20 * time.Millisecond
		})
		var msgs []*sarama.ProducerMessage
		for _, s := range want {
			m := &sarama.ProducerMessage{Topic: topic, Partition: 0}
			if s.key != nil {
				m.Key = sarama.StringEncoder(*s.key)
			}
			if s.value != nil {
				m.Value = sarama.StringEncoder(*s.value)
			}
			for _, h := range s.headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
			}
			if s.ts != 0 {
				m.Timestamp = time.UnixMilli(s.ts)
			}
			msgs = append(msgs, m)
		}
		must(p.SendMessages(msgs), "SendMessages "+codec.name)
		p.Close()
		after := time.Now().UnixMilli()
		recs := saramaConsumeAssigned(topic, []int32{0}, len(want), 30*time.Second)
		var gots []got
		for _, r := range recs {
			g := got{offset: r.Offset, key: r.Key, value: r.Value, ts: r.Timestamp.UnixMilli()}
			for _, h := range r.Headers {
				g.headers = append(g.headers, [2]string{string(h.Key), string(h.Value)})
			}
			gots = append(gots, g)
		}
		compareRoundtrip(codec.name, want, gots, before, after)
		done = append(done, codec.name)
		logf("roundtrip %s ok", codec.name)
	}
	return fmt.Sprintf("20 records × %s: keys, null key/value, headers (dup keys, empty), timestamps match", strings.Join(done, "/"))
}

func saramaIdempotent() string {
	const n = 5000
	topic := "idem-sarama-" + runID
	a := saramaAdminClient()
	saramaCreateTopic(a, topic, 1, nil)
	a.Close()
	c := saramaConfig()
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Retry.Max = 1000
	c.Net.MaxOpenRequests = 1 // sarama requires 1 with idempotence
	c.Producer.Partitioner = sarama.NewManualPartitioner
	// Batches of exactly 50: Messages alone makes a batch ready at 50 or more, so a batch that
	// grew past 50 while the single open request waited for acks=all left a tail of fewer than 50
	// that nothing flushed before Close (sarama's readyToFlush) — a hang that came and went with
	// the broker's fsync timing. MaxMessages caps each batch; Frequency flushes any tail anyway.
	c.Producer.Flush.Messages = 50
	c.Producer.Flush.MaxMessages = 50
	c.Producer.Flush.Frequency = 10 * time.Millisecond
	p, err := sarama.NewAsyncProducer([]string{bootstrap}, c)
	must(err, "NewAsyncProducer (idempotent)")
	go func() {
		for i := 0; i < n; i++ {
			p.Input() <- &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(fmt.Sprintf("k%d", i%10)), Value: sarama.StringEncoder(fmt.Sprint(i))}
		}
	}()
	acked := 0
	var firstErr error
	timeout := time.After(60 * time.Second)
	for acked < n {
		select {
		case <-p.Successes():
			acked++
		case e := <-p.Errors():
			if firstErr == nil {
				firstErr = e.Err
			}
			acked++
		case <-timeout:
			check(false, "only %d of %d records acknowledged in 60 s", acked, n)
		}
	}
	must(firstErr, "idempotent produce")
	must(p.Close(), "producer close")
	recs := saramaConsumeAssigned(topic, []int32{0}, n, 60*time.Second)
	check(len(recs) == n, "consumed %d records, want exactly %d", len(recs), n)
	for i, r := range recs {
		check(string(r.Value) == fmt.Sprint(i) && r.Offset == int64(i), "record at offset %d is %s", r.Offset, r.Value)
	}
	return fmt.Sprintf("%d records, idempotent async producer (batches of 50): exactly once, in order", n)
}

func saramaOrder100k() string {
	const n, parts = 100_000, 6
	topic := "order-sarama-" + runID
	a := saramaAdminClient()
	saramaCreateTopic(a, topic, parts, nil)
	a.Close()
	c := saramaConfig()
	c.Producer.Idempotent = true // keeps per-partition order with retries
	c.Net.MaxOpenRequests = 1
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	c.Producer.Flush.Messages = 1000
	c.ChannelBufferSize = 4096
	t0 := time.Now()
	p, err := sarama.NewAsyncProducer([]string{bootstrap}, c) // hash partitioner on the key (default)
	must(err, "NewAsyncProducer")
	go func() {
		for i := 0; i < n; i++ {
			p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("key-%d", i%1000)), Value: sarama.StringEncoder(fmt.Sprint(i))}
		}
	}()
	acked := 0
	var firstErr error
	timeout := time.After(120 * time.Second)
	for acked < n {
		select {
		case <-p.Successes():
			acked++
		case e := <-p.Errors():
			if firstErr == nil {
				firstErr = e.Err
			}
			acked++
		case <-timeout:
			check(false, "only %d of %d records acknowledged in 120 s", acked, n)
		}
	}
	must(firstErr, "produce")
	must(p.Close(), "producer close")
	t1 := time.Now()
	var recs []orec
	for _, r := range saramaConsumeAssigned(topic, []int32{0, 1, 2, 3, 4, 5}, n, 120*time.Second) {
		recs = append(recs, orec{r.Partition, r.Offset, string(r.Key), string(r.Value)})
	}
	return checkOrder(recs, n, parts) + fmt.Sprintf(" (produce %d ms, consume %d ms)", t1.Sub(t0).Milliseconds(), time.Since(t1).Milliseconds())
}

// ------------------------------------------------------------------ group

type saramaMember struct {
	name    string
	topic   string
	cg      sarama.ConsumerGroup
	mu      sync.Mutex
	assign  []int32
	session sarama.ConsumerGroupSession
	got     map[int32][]int64
	mark    bool // mark each consumed message (phase A)
	cancel  context.CancelFunc
	done    chan struct{}
}

func (m *saramaMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	m.assign = append([]int32(nil), s.Claims()[m.topic]...)
	m.session = s
	m.mu.Unlock()
	return nil
}

func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	m.assign = nil
	m.session = nil
	m.mu.Unlock()
	return nil
}

func (m *saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		m.mu.Lock()
		m.got[msg.Partition] = append(m.got[msg.Partition], msg.Offset)
		if m.mark {
			s.MarkMessage(msg, "")
		}
		m.mu.Unlock()
	}
	return nil
}

func newSaramaMember(name, group, topic string, mark bool) *saramaMember {
	c := saramaConfig()
	c.Consumer.Offsets.AutoCommit.Enable = false
	c.Consumer.Group.Session.Timeout = 10 * time.Second
	c.Consumer.Group.Heartbeat.Interval = time.Second
	c.Consumer.Group.Rebalance.Retry.Max = 20
	cg, err := sarama.NewConsumerGroup([]string{bootstrap}, group, c)
	must(err, "NewConsumerGroup")
	m := &saramaMember{name: name, topic: topic, cg: cg, got: map[int32][]int64{}, mark: mark, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		for e := range cg.Errors() {
			logf("%s group error: %v", name, e)
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, m); err != nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) {
					return
				}
				logf("%s Consume: %v", name, err)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return m
}

func (m *saramaMember) assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int32(nil), m.assign...)
}

func (m *saramaMember) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, l := range m.got {
		n += len(l)
	}
	return n
}

// commit commits the marked offsets (or the given per-partition offsets) through the current session.
func (m *saramaMember) commit(offsets map[int32]int64) {
	waitFor(20*time.Second, m.name+" session", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.session != nil }, func() string { return "" })
	m.mu.Lock()
	s := m.session
	for p, o := range offsets {
		s.MarkOffset(m.topic, p, o, "")
	}
	m.mu.Unlock()
	s.Commit()
}

func (m *saramaMember) close() {
	m.cancel()
	must(m.cg.Close(), m.name+" close") // leaves the group
	<-m.done
}

func saramaState(ms []*saramaMember) ([]string, [][]int32) {
	var names []string
	var as [][]int32
	for _, m := range ms {
		names = append(names, m.name)
		as = append(as, m.assigned())
	}
	return names, as
}

func saramaProduceEach(topic string, parts, per int, tag string) {
	p := saramaSyncProducer(nil)
	defer p.Close()
	var msgs []*sarama.ProducerMessage
	for part := 0; part < parts; part++ {
		for i := 0; i < per; i++ {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: int32(part), Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("%s-%d-%d", tag, part, i))})
		}
	}
	must(p.SendMessages(msgs), "SendMessages")
}

func saramaGroup() string {
	const parts, per = 6, 50
	topic, group := "grp-sarama-"+runID, "grp-sarama-"+runID
	a := saramaAdminClient()
	saramaCreateTopic(a, topic, parts, nil)
	a.Close()
	ms := []*saramaMember{newSaramaMember("c1", group, topic, true), newSaramaMember("c2", group, topic, true), newSaramaMember("c3", group, topic, true)}
	state := func() string { n, a := saramaState(ms); return "assignments: " + showAssign(n, a) }
	sum := func() int {
		t := 0
		for _, m := range ms {
			t += m.count()
		}
		return t
	}
	waitFor(60*time.Second, "3 members to share 6 partitions", func() bool { _, a := saramaState(ms); return disjointCover(a, parts) }, state)
	n, as := saramaState(ms)
	phaseA := showAssign(n, as)
	logf("phase A assignment %s", phaseA)
	saramaProduceEach(topic, parts, per, "A")
	waitFor(30*time.Second, "batch A (300 records)", func() bool { return sum() >= parts*per }, state)
	for _, m := range ms {
		m.commit(nil)
		m.mu.Lock()
		m.mark = false
		m.mu.Unlock()
	}
	leaving := ms[2]
	ms = ms[:2]
	leaving.close()
	waitFor(60*time.Second, "2 remaining members to take all 6 partitions", func() bool { _, a := saramaState(ms); return disjointCover(a, parts) }, state)
	n, as = saramaState(ms)
	phaseB := showAssign(n, as)
	logf("phase B assignment %s", phaseB)
	countA := sum()
	saramaProduceEach(topic, parts, per, "B")
	waitFor(30*time.Second, "batch B (300 records)", func() bool { return sum() >= countA+parts*per }, state)
	for _, m := range ms {
		offs := map[int32]int64{}
		for _, p := range m.assigned() {
			offs[p] = per + per/2
		}
		m.commit(offs)
	}
	all := map[int32][]int64{}
	for _, m := range append(ms, leaving) {
		m.mu.Lock()
		for p, l := range m.got {
			all[p] = append(all[p], l...)
		}
		m.mu.Unlock()
	}
	offsetsExactly("before restart", all, parts, 0, 2*per)
	for _, m := range ms {
		m.close()
	}

	restartBroker()

	saramaProduceEach(topic, parts, per, "C")
	r := newSaramaMember("r1", group, topic, false)
	want := parts * (per/2 + per)
	waitFor(90*time.Second, fmt.Sprintf("resume after restart (%d records)", want), func() bool { return r.count() >= want },
		func() string { return fmt.Sprintf("got %d, assigned %v", r.count(), r.assigned()) })
	time.Sleep(1500 * time.Millisecond)
	r.mu.Lock()
	res := map[int32][]int64{}
	for p, l := range r.got {
		res[p] = append([]int64(nil), l...)
	}
	r.mu.Unlock()
	r.close()
	offsetsExactly("after restart", res, parts, per+per/2, 3*per)
	return fmt.Sprintf("3 members [%s] → c3 left [%s]; committed 75/partition; after broker restart a fresh member resumed at 75: no loss, no re-delivery of committed records", phaseA, phaseB)
}

// ------------------------------------------------------------------ seek-timestamp

func saramaSeekTimestamp() string {
	topic := "ts-sarama-" + runID
	a := saramaAdminClient()
	saramaCreateTopic(a, topic, 1, nil)
	a.Close()
	base := time.Now().UnixMilli() - 3_600_000
	p := saramaSyncProducer(nil)
	var msgs []*sarama.ProducerMessage
	for i := 0; i < 30; i++ {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("v%d", i)), Timestamp: time.UnixMilli(base + int64(i)*1000)})
	}
	must(p.SendMessages(msgs), "SendMessages")
	p.Close()
	cl, err := sarama.NewClient([]string{bootstrap}, saramaConfig())
	must(err, "NewClient")
	defer cl.Close()
	get := func(ts int64) int64 {
		o, err := cl.GetOffset(topic, 0, ts)
		must(err, fmt.Sprintf("GetOffset(%d)", ts))
		return o
	}
	check(get(base+10_000) == 10, "GetOffset(ts of #10) = %d", get(base+10_000))
	check(get(base+10_500) == 11, "GetOffset(between #10 and #11) = %d", get(base+10_500))
	check(get(base-100_000) == 0, "GetOffset(before first) = %d", get(base-100_000))
	check(get(base+1_000_000) == -1, "GetOffset(after last) = %d, want -1", get(base+1_000_000))
	check(get(sarama.OffsetOldest) == 0 && get(sarama.OffsetNewest) == 30, "oldest/newest %d/%d", get(sarama.OffsetOldest), get(sarama.OffsetNewest))
	c, err := sarama.NewConsumerFromClient(cl)
	must(err, "NewConsumer")
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, get(base+10_000))
	must(err, "ConsumePartition")
	defer pc.Close()
	for i := 0; i < 20; i++ {
		select {
		case r := <-pc.Messages():
			check(r.Offset == int64(10+i) && r.Timestamp.UnixMilli() == base+int64(10+i)*1000 && string(r.Value) == fmt.Sprintf("v%d", 10+i),
				"record %d after seek: offset %d ts %d value %s", i, r.Offset, r.Timestamp.UnixMilli(), r.Value)
		case <-time.After(20 * time.Second):
			check(false, "consumed %d records from offset 10, want 20", i)
		}
	}
	return "GetOffset by timestamp exact/between/before/after-last ok; consumed 20 records from the found offset"
}

// ------------------------------------------------------------------ admin

// saramaConfigIs polls DescribeConfig for up to 10 s: Kafka applies config changes asynchronously.
func saramaConfigIs(a sarama.ClusterAdmin, topic, key string, want func(string) bool) (string, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := saramaConfigValue(a, topic, key)
		if want(v) || time.Now().After(deadline) {
			return v, want(v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func eq(w string) func(string) bool { return func(v string) bool { return v == w } }

func saramaConfigValue(a sarama.ClusterAdmin, topic, key string) string {
	entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{key}})
	must(err, "DescribeConfig")
	for _, e := range entries {
		if e.Name == key {
			return e.Value
		}
	}
	return "<absent>"
}

func saramaAdmin() string {
	topic := "adm-sarama-" + runID
	a := saramaAdminClient()
	defer a.Close()
	var steps []string
	saramaCreateTopic(a, topic, 3, map[string]*string{"retention.ms": strp("123456789")})
	steps = append(steps, "create")
	md, err := a.DescribeTopics([]string{topic})
	must(err, "DescribeTopics")
	check(len(md) == 1 && len(md[0].Partitions) == 3, "DescribeTopics: %d partitions, want 3", len(md[0].Partitions))
	lt, err := a.ListTopics()
	must(err, "ListTopics")
	_, ok := lt[topic]
	check(ok, "ListTopics lacks %s", topic)
	steps = append(steps, "describe-topics")
	brokers, ctrl, err := a.DescribeCluster()
	must(err, "DescribeCluster")
	check(len(brokers) > 0, "DescribeCluster: no brokers")
	steps = append(steps, fmt.Sprintf("describe-cluster(%d node, controller %d)", len(brokers), ctrl))
	if v, ok := saramaConfigIs(a, topic, "retention.ms", eq("123456789")); !ok {
		check(false, "DescribeConfig retention.ms = %s", v)
	}
	if v, ok := saramaConfigIs(a, topic, "cleanup.policy", eq("delete")); !ok {
		check(false, "DescribeConfig cleanup.policy = %s, want the default delete", v)
	}
	steps = append(steps, "describe-configs")
	must(a.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		"retention.ms":      {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: strp("987654321")},
		"max.message.bytes": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: strp("2000000")},
	}, false), "IncrementalAlterConfig")
	if v, ok := saramaConfigIs(a, topic, "retention.ms", eq("987654321")); !ok {
		check(false, "after IncrementalAlterConfig retention.ms = %s", v)
	}
	if v, ok := saramaConfigIs(a, topic, "max.message.bytes", eq("2000000")); !ok {
		check(false, "after IncrementalAlterConfig max.message.bytes = %s", v)
	}
	must(a.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		"max.message.bytes": {Operation: sarama.IncrementalAlterConfigsOperationDelete},
	}, false), "IncrementalAlterConfig delete")
	if _, ok := saramaConfigIs(a, topic, "max.message.bytes", func(v string) bool { return v != "2000000" }); !ok {
		check(false, "after DELETE max.message.bytes still 2000000")
	}
	steps = append(steps, "incremental-alter-configs(set, delete)")
	must(a.CreatePartitions(topic, 5, nil, false), "CreatePartitions")
	waitFor(20*time.Second, "5 partitions", func() bool {
		md, err := a.DescribeTopics([]string{topic})
		return err == nil && len(md) == 1 && len(md[0].Partitions) == 5
	}, func() string { return "" })
	steps = append(steps, "create-partitions(3→5)")
	must(a.DeleteTopic(topic), "DeleteTopic")
	waitFor(20*time.Second, "topic gone after DeleteTopic", func() bool {
		lt, err := a.ListTopics()
		_, still := lt[topic]
		return err == nil && !still
	}, func() string { return "" })
	steps = append(steps, "delete-topic")
	return strings.Join(steps, ", ")
}

// ------------------------------------------------------------------ groups-admin

func saramaGroupsAdmin() string {
	topic, group := "gadm-sarama-"+runID, "gadm-sarama-"+runID
	a := saramaAdminClient()
	defer a.Close()
	var steps []string
	saramaCreateTopic(a, topic, 2, nil)
	saramaProduceEach(topic, 2, 10, "G")
	m := newSaramaMember("g1", group, topic, false)
	waitFor(60*time.Second, "20 records in the group", func() bool { return m.count() >= 20 }, func() string { return fmt.Sprint(m.count()) })
	m.commit(map[int32]int64{0: 7, 1: 10})
	dg, err := a.DescribeConsumerGroups([]string{group})
	must(err, "DescribeConsumerGroups")
	check(len(dg) == 1 && dg[0].State == "Stable" && len(dg[0].Members) == 1, "DescribeConsumerGroups (active): state %s, %d members", dg[0].State, len(dg[0].Members))
	for _, mem := range dg[0].Members {
		as, err := mem.GetMemberAssignment()
		must(err, "member assignment")
		check(len(as.Topics[topic]) == 2, "DescribeConsumerGroups (active): member assignment %v", as.Topics)
	}
	steps = append(steps, "describe(active: stable, 1 member, 2 partitions)")
	m.close()
	lg, err := a.ListConsumerGroups()
	must(err, "ListConsumerGroups")
	_, listed := lg[group]
	check(listed, "ListConsumerGroups lacks %s", group)
	steps = append(steps, "list")
	dg, err = a.DescribeConsumerGroups([]string{group})
	must(err, "DescribeConsumerGroups")
	check(dg[0].State == "Empty" && len(dg[0].Members) == 0, "DescribeConsumerGroups (after close): state %s, %d members", dg[0].State, len(dg[0].Members))
	steps = append(steps, "describe(empty)")
	offs, err := a.ListConsumerGroupOffsets(group, nil)
	must(err, "ListConsumerGroupOffsets")
	b0, b1 := offs.GetBlock(topic, 0), offs.GetBlock(topic, 1)
	check(b0 != nil && b1 != nil && b0.Offset == 7 && b1.Offset == 10, "ListConsumerGroupOffsets = %+v %+v", b0, b1)
	steps = append(steps, "list-offsets(7,10)")
	must(a.DeleteConsumerGroupOffset(group, topic, 0), "DeleteConsumerGroupOffset")
	offs, err = a.ListConsumerGroupOffsets(group, nil)
	must(err, "ListConsumerGroupOffsets")
	b0, b1 = offs.GetBlock(topic, 0), offs.GetBlock(topic, 1)
	check(b0 == nil || b0.Offset < 0, "after DeleteConsumerGroupOffset(p0): p0 at %+v", b0)
	check(b1 != nil && b1.Offset == 10, "after DeleteConsumerGroupOffset(p0): p1 %+v", b1)
	steps = append(steps, "delete-offsets(p0)")
	must(a.DeleteConsumerGroup(group), "DeleteConsumerGroup")
	lg, err = a.ListConsumerGroups()
	must(err, "ListConsumerGroups")
	_, listed = lg[group]
	check(!listed, "group still listed after DeleteConsumerGroup")
	steps = append(steps, "delete-group")
	_ = a.DeleteTopic(topic)
	return strings.Join(steps, ", ")
}
