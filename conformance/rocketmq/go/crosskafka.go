package main

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// scenarioCrossKafka: franz-go produces to a 4-partition topic, the RocketMQ push consumer reads it; the RocketMQ
// producer sends to another 4-partition topic, a franz-go consumer reads it. Mapping checked (DESIGN.md §2):
// body=value, KEYS=key, properties (TAGS, UNIQ_KEY, user ones)=headers, queue=partition, queue offset=offset.
func scenarioCrossKafka() string {
	if kafkaBootstrap == "" {
		skip("KAFKA_BOOTSTRAP is empty: target %s has no Kafka listener sharing the RocketMQ store", target)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	kc, err := kgo.NewClient(kgo.SeedBrokers(kafkaBootstrap))
	must(err, "kgo.NewClient")
	defer kc.Close()
	adm := kadm.NewClient(kc)
	k2r, r2k := name("x_k2r"), name("x_r2k")
	created, err := adm.CreateTopics(ctx, 4, 1, nil, k2r, r2k)
	must(err, "kadm CreateTopics")
	for _, t := range created.Sorted() {
		must(t.Err, "create topic "+t.Topic)
	}
	logf("created %s and %s with 4 partitions over Kafka", k2r, r2k)
	var last string
	waitFor(30*time.Second, "RocketMQ route of "+k2r+" with 4 queues", func() bool {
		mqs, err := getAdmin().FetchPublishMessageQueues(context.Background(), k2r)
		last = fmt.Sprintf("%d queues, err %v", len(mqs), err)
		return err == nil && len(mqs) == 4
	}, func() string { return last })

	// Kafka -> RocketMQ
	type pos struct {
		part   int32
		offset int64
	}
	sent := map[string]pos{}
	var recs []*kgo.Record
	for i := 0; i < 20; i++ {
		tag := "TagK"
		if i%2 == 1 {
			tag = "TagL"
		}
		recs = append(recs, &kgo.Record{Topic: k2r, Key: []byte(fmt.Sprintf("k-%d", i)), Value: []byte(fmt.Sprintf("v-%d-\u00e9", i)),
			Headers: []kgo.RecordHeader{{Key: "TAGS", Value: []byte(tag)}, {Key: "u1", Value: []byte(fmt.Sprintf("x-%d", i))}, {Key: "u2", Value: []byte("\u00fc")}}})
	}
	for _, r := range kc.ProduceSync(ctx, recs...) {
		must(r.Err, "kafka produce")
		sent[string(r.Record.Value)] = pos{r.Record.Partition, r.Record.Offset}
	}
	col := &collector{}
	c := startPush(name("x_cg"), "x1", k2r, all, col)
	defer c.Shutdown()
	waitFor(60*time.Second, "20 Kafka records as RocketMQ messages", func() bool { return col.distinct("") >= 20 },
		func() string { return fmt.Sprintf("%d", col.distinct("")) })
	time.Sleep(time.Second)
	for _, r := range col.snapshot() {
		var i int
		_, err := fmt.Sscanf(r.body, "v-%d-", &i)
		check(err == nil, "unexpected body %q", r.body)
		tag := "TagK"
		if i%2 == 1 {
			tag = "TagL"
		}
		check(r.keys == fmt.Sprintf("k-%d", i), "%s: keys %q", r.body, r.keys)
		check(r.tags == tag, "%s: tag %q, want %s", r.body, r.tags, tag)
		check(r.props["u1"] == fmt.Sprintf("x-%d", i) && r.props["u2"] == "\u00fc", "%s: properties %v", r.body, r.props)
		s := sent[r.body]
		check(int32(r.queue) == s.part && r.offset == s.offset, "%s: produced to partition %d offset %d, consumed from queue %d offset %d",
			r.body, s.part, s.offset, r.queue, r.offset)
	}
	check(col.count() == 20, "%d deliveries, want 20", col.count())

	// RocketMQ -> Kafka
	p := newProducer(name("x_pg"))
	defer p.Shutdown()
	type rsent struct {
		msgID  string
		queue  int
		offset int64
	}
	rs := map[string]rsent{}
	for i := 0; i < 20; i++ {
		m := primitive.NewMessage(r2k, []byte(fmt.Sprintf("r-%d-\u2713", i)))
		m.WithKeys([]string{fmt.Sprintf("rk-%d", i)})
		m.WithTag("TagR")
		m.WithProperty("up", fmt.Sprintf("w-%d", i))
		res := sendSync(p, m)
		rs[string(m.Body)] = rsent{res.MsgID, res.MessageQueue.QueueId, res.QueueOffset}
	}
	kcons, err := kgo.NewClient(kgo.SeedBrokers(kafkaBootstrap), kgo.ConsumeTopics(r2k), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	must(err, "kgo consumer")
	defer kcons.Close()
	var got []*kgo.Record
	deadline := time.Now().Add(60 * time.Second)
	for len(got) < 20 && time.Now().Before(deadline) {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		fs := kcons.PollFetches(pctx)
		pcancel()
		fs.EachError(func(t string, p int32, err error) {
			if err != context.DeadlineExceeded {
				logf("fetch error %s/%d: %v", t, p, err)
			}
		})
		got = append(got, fs.Records()...)
	}
	check(len(got) == 20, "Kafka consumer got %d records, want 20", len(got))
	for _, r := range got {
		var i int
		_, err := fmt.Sscanf(string(r.Value), "r-%d-", &i)
		check(err == nil, "unexpected value %q", r.Value)
		check(string(r.Key) == fmt.Sprintf("rk-%d", i), "%s: key %q", r.Value, r.Key)
		h := map[string]string{}
		for _, hd := range r.Headers {
			h[hd.Key] = string(hd.Value)
		}
		s := rs[string(r.Value)]
		check(h["TAGS"] == "TagR", "%s: header TAGS %q (headers %v)", r.Value, h["TAGS"], h)
		check(h["UNIQ_KEY"] == s.msgID, "%s: header UNIQ_KEY %q, send result msgId %s", r.Value, h["UNIQ_KEY"], s.msgID)
		check(h["up"] == fmt.Sprintf("w-%d", i), "%s: header up %q", r.Value, h["up"])
		check(int(r.Partition) == s.queue && r.Offset == s.offset, "%s: sent to queue %d offset %d, read from partition %d offset %d",
			r.Value, s.queue, s.offset, r.Partition, r.Offset)
	}
	return "Kafka→RocketMQ 20 records: body=value, keys=key, tag=TAGS header, user properties=headers, queue/offset=partition/offset; RocketMQ→Kafka 20 messages: value=body, key=KEYS, headers TAGS/UNIQ_KEY/user property, partition/offset=queue/offset"
}
