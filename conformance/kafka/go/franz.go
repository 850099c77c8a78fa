package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func franzScenarios() scenarios {
	return scenarios{
		"roundtrip":      franzRoundtrip,
		"idempotent":     franzIdempotent,
		"order100k":      franzOrder100k,
		"group":          franzGroup,
		"seek-timestamp": franzSeekTimestamp,
		"admin":          franzAdmin,
		"groups-admin":   franzGroupsAdmin,
		"delay":          franzDelay,
	}
}

// ctxT is a context with a deadline; the process is short-lived, so its timer is left to expire.
func ctxT(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(d, cancel)
	return ctx
}

func franzClient(opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.ClientID("conformance-franz-go"), kgo.RequestTimeoutOverhead(20 * time.Second)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	must(err, "kgo.NewClient")
	return cl
}

func franzCreateTopic(adm *kadm.Client, topic string, parts int32, configs map[string]*string) {
	resp, err := adm.CreateTopic(ctxT(30*time.Second), parts, 1, configs, topic)
	must(err, "CreateTopic "+topic)
	must(resp.Err, "CreateTopic "+topic)
	waitFor(20*time.Second, "topic "+topic+" with leaders", func() bool {
		md, err := adm.Metadata(ctxT(10*time.Second), topic)
		if err != nil {
			return false
		}
		t, ok := md.Topics[topic]
		if !ok || t.Err != nil || len(t.Partitions) != int(parts) {
			return false
		}
		for _, p := range t.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return false
			}
		}
		return true
	}, func() string { return "" })
}

// franzConsumeAssigned reads partitions of topic from the start until want records (then lingers 500 ms).
func franzConsumeAssigned(topic string, parts []int32, want int, timeout time.Duration) []*kgo.Record {
	offs := map[int32]kgo.Offset{}
	for _, p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
	}
	cl := franzClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}), kgo.FetchMaxWait(200*time.Millisecond))
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(timeout)
	linger := time.Time{}
	for time.Now().Before(deadline) {
		if len(out) >= want {
			if linger.IsZero() {
				linger = time.Now().Add(500 * time.Millisecond)
			} else if time.Now().After(linger) {
				break
			}
		}
		fs := cl.PollFetches(ctxT(300 * time.Millisecond))
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				logf("fetch error %s/%d: %v", t, p, err)
			}
		})
		out = append(out, fs.Records()...)
	}
	return out
}

func franzProduceSync(cl *kgo.Client, recs []*kgo.Record) {
	res := cl.ProduceSync(ctxT(60*time.Second), recs...)
	for _, r := range res {
		must(r.Err, "produce")
	}
}

func franzRoundtrip() string {
	adm := kadm.NewClient(franzClient())
	defer adm.Close()
	codecs := []struct {
		name string
		c    kgo.CompressionCodec
		id   uint8 // the batch attributes' codec bits
	}{{"none", kgo.NoCompression(), 0}, {"gzip", kgo.GzipCompression(), 1}, {"snappy", kgo.SnappyCompression(), 2}, {"lz4", kgo.Lz4Compression(), 3}, {"zstd", kgo.ZstdCompression(), 4}}
	var done []string
	for _, codec := range codecs {
		topic := "rt-" + codec.name + "-franz-" + runID
		franzCreateTopic(adm, topic, 1, nil)
		base := time.Now().UnixMilli() - 3_600_000
		want := specs(base)
		before := time.Now().UnixMilli()
		cl := franzClient(kgo.ProducerBatchCompression(codec.c), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(20*time.Millisecond))
		var recs []*kgo.Record
		for _, s := range want {
			r := &kgo.Record{Topic: topic, Partition: 0}
			if s.key != nil {
				r.Key = []byte(*s.key)
			}
			if s.value != nil {
				r.Value = []byte(*s.value)
			}
			for _, h := range s.headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
			}
			if s.ts != 0 {
				r.Timestamp = time.UnixMilli(s.ts)
			}
			recs = append(recs, r)
		}
		franzProduceSync(cl, recs)
		cl.Close()
		after := time.Now().UnixMilli()
		var gots []got
		for _, r := range franzConsumeAssigned(topic, []int32{0}, len(want), 30*time.Second) {
			g := got{offset: r.Offset, key: r.Key, value: r.Value, ts: r.Timestamp.UnixMilli()}
			for _, h := range r.Headers {
				g.headers = append(g.headers, [2]string{h.Key, string(h.Value)})
			}
			check(r.Attrs.TimestampType() == 0, "%s: timestamp type %d, want CreateTime", codec.name, r.Attrs.TimestampType())
			// kgo compresses a batch only when that makes it smaller; the batch holding the 20 KB value (#10) always
			// is. The broker must hand back the batch as produced, with its codec.
			if r.Offset == 10 {
				check(r.Attrs.CompressionType() == codec.id, "%s: record 10 came back in a batch with codec %d, want %d (batches are stored as received)", codec.name, r.Attrs.CompressionType(), codec.id)
			}
			gots = append(gots, g)
		}
		compareRoundtrip(codec.name, want, gots, before, after)
		done = append(done, codec.name)
		logf("roundtrip %s ok", codec.name)
	}
	return fmt.Sprintf("20 records × %s: keys, null key/value, headers (dup keys, empty), timestamps match; fetched batch codec = produced codec", strings.Join(done, "/"))
}

func franzIdempotent() string {
	const n = 5000
	topic := "idem-franz-" + runID
	adm := kadm.NewClient(franzClient())
	franzCreateTopic(adm, topic, 1, nil)
	adm.Close()
	// Idempotence is franz-go's default; small batches and 5 in flight.
	cl := franzClient(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(4096),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("k%d", i%10)), Value: []byte(fmt.Sprint(i))},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				wg.Done()
			})
	}
	wg.Wait()
	must(firstErr, "idempotent produce")
	cl.Close()
	recs := franzConsumeAssigned(topic, []int32{0}, n, 60*time.Second)
	check(len(recs) == n, "consumed %d records, want exactly %d", len(recs), n)
	for i, r := range recs {
		check(string(r.Value) == fmt.Sprint(i), "record at offset %d is %s", i, r.Value)
	}
	return fmt.Sprintf("%d records, idempotent producer (default, 4 KiB batches): exactly once, in order", n)
}

func franzOrder100k() string {
	const n, parts = 100_000, 6
	topic := "order-franz-" + runID
	adm := kadm.NewClient(franzClient())
	franzCreateTopic(adm, topic, parts, nil)
	adm.Close()
	t0 := time.Now()
	cl := franzClient(kgo.ProducerLinger(5 * time.Millisecond))
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%d", i%1000)), Value: []byte(fmt.Sprint(i))},
			func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				wg.Done()
			})
	}
	wg.Wait()
	must(firstErr, "produce")
	cl.Close()
	t1 := time.Now()
	var recs []orec
	for _, r := range franzConsumeAssigned(topic, []int32{0, 1, 2, 3, 4, 5}, n, 120*time.Second) {
		recs = append(recs, orec{r.Partition, r.Offset, string(r.Key), string(r.Value)})
	}
	return checkOrder(recs, n, parts) + fmt.Sprintf(" (produce %d ms, consume %d ms)", t1.Sub(t0).Milliseconds(), time.Since(t1).Milliseconds())
}

// ------------------------------------------------------------------ group

type franzMember struct {
	name   string
	cl     *kgo.Client
	mu     sync.Mutex
	assign map[int32]bool
	got    map[int32][]int64
	cancel context.CancelFunc
	done   chan struct{}
}

func newFranzMember(name, group, topic string) *franzMember {
	m := &franzMember{name: name, assign: map[int32]bool{}, got: map[int32][]int64{}, done: make(chan struct{})}
	m.cl = franzClient(
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.SessionTimeout(10*time.Second),
		kgo.HeartbeatInterval(time.Second), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			for _, p := range a[topic] {
				m.assign[p] = true
			}
			m.mu.Unlock()
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assign, p)
			}
			m.mu.Unlock()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assign, p)
			}
			m.mu.Unlock()
		}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := m.cl.PollFetches(ctx)
			m.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) { m.got[r.Partition] = append(m.got[r.Partition], r.Offset) })
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *franzMember) assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for p := range m.assign {
		out = append(out, p)
	}
	return out
}

func (m *franzMember) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, l := range m.got {
		n += len(l)
	}
	return n
}

func (m *franzMember) close() {
	m.cancel()
	<-m.done
	m.cl.Close() // leaves the group (LeaveGroup)
}

func franzGroupState(ms []*franzMember) ([]string, [][]int32) {
	var names []string
	var as [][]int32
	for _, m := range ms {
		names = append(names, m.name)
		as = append(as, m.assigned())
	}
	return names, as
}

func franzProduceEach(topic string, parts, per int, tag string) {
	cl := franzClient(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	var recs []*kgo.Record
	for p := 0; p < parts; p++ {
		for i := 0; i < per; i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(p), Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("%s-%d-%d", tag, p, i))})
		}
	}
	franzProduceSync(cl, recs)
}

func franzGroup() string {
	const parts, per = 6, 50
	topic, group := "grp-franz-"+runID, "grp-franz-"+runID
	adm := kadm.NewClient(franzClient())
	franzCreateTopic(adm, topic, parts, nil)
	adm.Close()
	ms := []*franzMember{newFranzMember("c1", group, topic), newFranzMember("c2", group, topic), newFranzMember("c3", group, topic)}
	state := func() string { n, a := franzGroupState(ms); return "assignments: " + showAssign(n, a) }
	sum := func() int {
		t := 0
		for _, m := range ms {
			t += m.count()
		}
		return t
	}
	waitFor(60*time.Second, "3 members to share 6 partitions", func() bool { _, a := franzGroupState(ms); return disjointCover(a, parts) }, state)
	n, a := franzGroupState(ms)
	phaseA := showAssign(n, a)
	logf("phase A assignment %s", phaseA)
	franzProduceEach(topic, parts, per, "A")
	waitFor(30*time.Second, "batch A (300 records)", func() bool { return sum() >= parts*per }, state)
	for _, m := range ms {
		must(m.cl.CommitUncommittedOffsets(ctxT(20*time.Second)), "commit "+m.name)
	}
	leaving := ms[2]
	ms = ms[:2]
	leaving.close()
	waitFor(60*time.Second, "2 remaining members to take all 6 partitions", func() bool { _, a := franzGroupState(ms); return disjointCover(a, parts) }, state)
	n, a = franzGroupState(ms)
	phaseB := showAssign(n, a)
	logf("phase B assignment %s", phaseB)
	countA := sum()
	franzProduceEach(topic, parts, per, "B")
	waitFor(30*time.Second, "batch B (300 records)", func() bool { return sum() >= countA+parts*per }, state)
	for _, m := range ms {
		offs := map[string]map[int32]kgo.EpochOffset{topic: {}}
		for _, p := range m.assigned() {
			offs[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: per + per/2}
		}
		var cerr error
		m.cl.CommitOffsetsSync(ctxT(20*time.Second), offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			cerr = err
			if resp != nil {
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						if p.ErrorCode != 0 && cerr == nil {
							cerr = fmt.Errorf("partition %d error code %d", p.Partition, p.ErrorCode)
						}
					}
				}
			}
		})
		must(cerr, "partial commit "+m.name)
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

	franzProduceEach(topic, parts, per, "C")
	// One fresh member: two would re-read each other's uncommitted records during their first rebalance.
	r := newFranzMember("r1", group, topic)
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

func franzSeekTimestamp() string {
	topic := "ts-franz-" + runID
	adm := kadm.NewClient(franzClient())
	defer adm.Close()
	franzCreateTopic(adm, topic, 1, nil)
	base := time.Now().UnixMilli() - 3_600_000
	cl := franzClient(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for i := 0; i < 30; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i)), Timestamp: time.UnixMilli(base + int64(i)*1000)})
	}
	franzProduceSync(cl, recs)
	cl.Close()
	lookup := func(ms int64) kadm.ListedOffset {
		l, err := adm.ListOffsetsAfterMilli(ctxT(20*time.Second), ms, topic)
		must(err, "ListOffsetsAfterMilli")
		o, ok := l.Lookup(topic, 0)
		check(ok, "ListOffsetsAfterMilli: no answer for partition 0")
		must(o.Err, "ListOffsetsAfterMilli")
		return o
	}
	exact := lookup(base + 10_000)
	check(exact.Offset == 10 && exact.Timestamp == base+10_000, "ListOffsets(ts of #10) = offset %d ts %d", exact.Offset, exact.Timestamp)
	between := lookup(base + 10_500)
	check(between.Offset == 11, "ListOffsets(between #10 and #11) = %d", between.Offset)
	early := lookup(base - 100_000)
	check(early.Offset == 0, "ListOffsets(before first) = %d", early.Offset)
	// Kafka answers -1 after the last record; kadm maps that to the end offset.
	late := lookup(base + 1_000_000)
	check(late.Offset == 30 || late.Offset == -1, "ListOffsets(after last) = %d, want none (end offset 30)", late.Offset)
	starts, err := adm.ListStartOffsets(ctxT(20*time.Second), topic)
	must(err, "ListStartOffsets")
	ends, err := adm.ListEndOffsets(ctxT(20*time.Second), topic)
	must(err, "ListEndOffsets")
	s, _ := starts.Lookup(topic, 0)
	e, _ := ends.Lookup(topic, 0)
	check(s.Offset == 0 && e.Offset == 30, "start/end offsets %d/%d", s.Offset, e.Offset)
	// Consume from the offset found (a kgo.Offset AfterMilli lookup would do the same ListOffsets internally).
	c := franzClient(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AfterMilli(base + 10_000)}}), kgo.FetchMaxWait(200*time.Millisecond))
	defer c.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < 20 && time.Now().Before(deadline) {
		out = append(out, c.PollFetches(ctxT(300*time.Millisecond)).Records()...)
	}
	check(len(out) == 20, "consumed %d records from ts of #10, want 20", len(out))
	for i, r := range out {
		check(r.Offset == int64(10+i) && r.Timestamp.UnixMilli() == base+int64(10+i)*1000 && string(r.Value) == fmt.Sprintf("v%d", 10+i),
			"record %d after seek: offset %d ts %d value %s", i, r.Offset, r.Timestamp.UnixMilli(), r.Value)
	}
	return "ListOffsets by timestamp exact/between/before/after-last ok; consumed 20 records from NewOffset().AfterMilli"
}

// ------------------------------------------------------------------ admin

// franzConfigIs polls DescribeConfigs for up to 10 s: Kafka applies config changes asynchronously.
func franzConfigIs(adm *kadm.Client, topic, key string, want func(string) bool) (string, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := sv(franzConfig(adm, topic, key))
		if want(v) || time.Now().After(deadline) {
			return v, want(v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func franzConfig(adm *kadm.Client, topic, key string) *string {
	rc, err := adm.DescribeTopicConfigs(ctxT(20*time.Second), topic)
	must(err, "DescribeTopicConfigs")
	r, err := rc.On(topic, nil)
	must(err, "DescribeTopicConfigs "+topic)
	must(r.Err, "DescribeTopicConfigs "+topic)
	for _, c := range r.Configs {
		if c.Key == key {
			return c.Value
		}
	}
	return nil
}

func sv(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func franzAdmin() string {
	topic := "adm-franz-" + runID
	cl := franzClient()
	adm := kadm.NewClient(cl)
	defer adm.Close()
	var steps []string
	franzCreateTopic(adm, topic, 3, map[string]*string{"retention.ms": strp("123456789")})
	steps = append(steps, "create")
	md, err := adm.Metadata(ctxT(20*time.Second), topic)
	must(err, "Metadata")
	td := md.Topics[topic]
	check(len(td.Partitions) == 3, "Metadata: %d partitions, want 3", len(td.Partitions))
	check(td.ID != [16]byte{}, "Metadata: no topic id")
	lt, err := adm.ListTopics(ctxT(20 * time.Second))
	must(err, "ListTopics")
	check(lt.Has(topic), "ListTopics lacks %s", topic)
	steps = append(steps, "describe-topics")
	bm, err := adm.BrokerMetadata(ctxT(20 * time.Second))
	must(err, "BrokerMetadata")
	check(len(bm.Brokers) > 0 && bm.Cluster != "", "metadata: %d brokers, cluster id %q", len(bm.Brokers), bm.Cluster)
	dc := kmsg.NewPtrDescribeClusterRequest()
	dresp, err := dc.RequestWith(ctxT(20*time.Second), cl)
	must(err, "DescribeCluster")
	check(dresp.ErrorCode == 0 && len(dresp.Brokers) > 0 && dresp.ClusterID != "", "DescribeCluster: error %d, %d brokers, cluster %q", dresp.ErrorCode, len(dresp.Brokers), dresp.ClusterID)
	steps = append(steps, fmt.Sprintf("describe-cluster(%d node, controller %d)", len(dresp.Brokers), dresp.ControllerID))
	if v, ok := franzConfigIs(adm, topic, "retention.ms", eq("123456789")); !ok {
		check(false, "DescribeConfigs retention.ms = %s", v)
	}
	if v, ok := franzConfigIs(adm, topic, "cleanup.policy", eq("delete")); !ok {
		check(false, "DescribeConfigs cleanup.policy = %s, want the default delete", v)
	}
	steps = append(steps, "describe-configs")
	ar, err := adm.AlterTopicConfigs(ctxT(20*time.Second), []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("987654321")},
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: strp("2000000")},
	}, topic)
	must(err, "IncrementalAlterConfigs")
	for _, r := range ar {
		must(r.Err, "IncrementalAlterConfigs "+r.Name)
	}
	if v, ok := franzConfigIs(adm, topic, "retention.ms", eq("987654321")); !ok {
		check(false, "after IncrementalAlterConfigs retention.ms = %s", v)
	}
	if v, ok := franzConfigIs(adm, topic, "max.message.bytes", eq("2000000")); !ok {
		check(false, "after IncrementalAlterConfigs max.message.bytes = %s", v)
	}
	ar, err = adm.AlterTopicConfigs(ctxT(20*time.Second), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "max.message.bytes"}}, topic)
	must(err, "IncrementalAlterConfigs delete")
	for _, r := range ar {
		must(r.Err, "IncrementalAlterConfigs delete "+r.Name)
	}
	if _, ok := franzConfigIs(adm, topic, "max.message.bytes", func(v string) bool { return v != "2000000" }); !ok {
		check(false, "after DELETE max.message.bytes still 2000000")
	}
	steps = append(steps, "incremental-alter-configs(set, delete)")
	cp, err := adm.UpdatePartitions(ctxT(20*time.Second), 5, topic)
	must(err, "CreatePartitions")
	for _, r := range cp {
		must(r.Err, "CreatePartitions")
	}
	waitFor(20*time.Second, "5 partitions", func() bool {
		md, err := adm.Metadata(ctxT(10*time.Second), topic)
		return err == nil && len(md.Topics[topic].Partitions) == 5
	}, func() string { return "" })
	steps = append(steps, "create-partitions(3→5)")
	dr, err := adm.DeleteTopics(ctxT(20*time.Second), topic)
	must(err, "DeleteTopics")
	for _, r := range dr {
		must(r.Err, "DeleteTopics")
	}
	waitFor(20*time.Second, "topic gone after DeleteTopics", func() bool {
		lt, err := adm.ListTopics(ctxT(10 * time.Second))
		return err == nil && !lt.Has(topic)
	}, func() string { return "" })
	steps = append(steps, "delete-topic")
	return strings.Join(steps, ", ")
}

// ------------------------------------------------------------------ groups-admin

func franzGroupsAdmin() string {
	topic, group := "gadm-franz-"+runID, "gadm-franz-"+runID
	adm := kadm.NewClient(franzClient())
	defer adm.Close()
	var steps []string
	franzCreateTopic(adm, topic, 2, nil)
	franzProduceEach(topic, 2, 10, "G")
	m := newFranzMember("g1", group, topic)
	waitFor(60*time.Second, "20 records in the group", func() bool { return m.count() >= 20 }, func() string { return fmt.Sprint(m.count()) })
	var cerr error
	m.cl.CommitOffsetsSync(ctxT(20*time.Second), map[string]map[int32]kgo.EpochOffset{topic: {0: {Epoch: -1, Offset: 7}, 1: {Epoch: -1, Offset: 10}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
	must(cerr, "commit")
	dg, err := adm.DescribeGroups(ctxT(20*time.Second), group)
	must(err, "DescribeGroups")
	d := dg[group]
	must(d.Err, "DescribeGroups")
	check(len(d.Members) == 1 && d.State == "Stable", "DescribeGroups (active): state %s, %d members", d.State, len(d.Members))
	ca, ok := d.Members[0].Assigned.AsConsumer()
	check(ok && len(ca.Topics) == 1 && len(ca.Topics[0].Partitions) == 2, "DescribeGroups (active): member assignment %+v", d.Members[0].Assigned)
	steps = append(steps, "describe(active: stable, 1 member, 2 partitions)")
	m.close()
	lg, err := adm.ListGroups(ctxT(20 * time.Second))
	must(err, "ListGroups")
	_, listed := lg[group]
	check(listed, "ListGroups lacks %s", group)
	steps = append(steps, "list")
	dg, err = adm.DescribeGroups(ctxT(20*time.Second), group)
	must(err, "DescribeGroups")
	check(dg[group].State == "Empty" && len(dg[group].Members) == 0, "DescribeGroups (after close): state %s, %d members", dg[group].State, len(dg[group].Members))
	steps = append(steps, "describe(empty)")
	fo, err := adm.FetchOffsets(ctxT(20*time.Second), group)
	must(err, "FetchOffsets")
	o0, ok0 := fo.Lookup(topic, 0)
	o1, ok1 := fo.Lookup(topic, 1)
	check(ok0 && ok1 && o0.At == 7 && o1.At == 10, "FetchOffsets = p0 %v/%d p1 %v/%d", ok0, o0.At, ok1, o1.At)
	steps = append(steps, "list-offsets(7,10)")
	ts := kadm.TopicsSet{}
	ts.Add(topic, 0)
	dor, err := adm.DeleteOffsets(ctxT(20*time.Second), group, ts)
	must(err, "DeleteOffsets")
	must(dor.Error(), "DeleteOffsets")
	fo, err = adm.FetchOffsets(ctxT(20*time.Second), group)
	must(err, "FetchOffsets")
	o0, ok0 = fo.Lookup(topic, 0)
	o1, _ = fo.Lookup(topic, 1)
	check(!ok0 || o0.At < 0, "after DeleteOffsets(p0): p0 at %d", o0.At)
	check(o1.At == 10, "after DeleteOffsets(p0): p1 at %d", o1.At)
	steps = append(steps, "delete-offsets(p0)")
	dgr, err := adm.DeleteGroups(ctxT(20*time.Second), group)
	must(err, "DeleteGroups")
	must(dgr[group].Err, "DeleteGroups")
	lg, err = adm.ListGroups(ctxT(20 * time.Second))
	must(err, "ListGroups")
	_, listed = lg[group]
	check(!listed, "group still listed after DeleteGroups")
	steps = append(steps, "delete-group")
	_, _ = adm.DeleteTopics(ctxT(20*time.Second), topic)
	return strings.Join(steps, ", ")
}
