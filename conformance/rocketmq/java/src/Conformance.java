// Conformance driver for the Java RocketMQ remoting client. Compiled twice by ../pom.xml: against rocketmq-client
// 4.9.8 (v49/) and 5.3.3 (v5/). Classes that moved between the lines (ClusterInfo, TopicRouteData, MessageModel,
// ...) are only reached through `var` or reflection, so the one source compiles against both.
//
//   java -cp '<classes>:<deps>/*' Conformance <scenario>
//   java -cp ... Conformance admin-data <topic> <group> <key> <n>    (helper for the mqadmin cell, see ../lib/mqadmin.ts)
//   env: NAMESRV=host:port, KAFKA_BOOTSTRAP=host:port (empty: no Kafka listener), RUN_ID=<unique suffix>
//
// Prints progress on stderr, control lines ({"control":"restart-broker"}, then reads "restarted" from stdin) and one
// final line {"ok":bool,"detail":"..."} or {"skip":"reason"} on stdout. See ../README.md for what each scenario checks.

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.constant.PermName;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

public class Conformance {
  static final String NAMESRV = env("NAMESRV", "127.0.0.1:9876");
  static final String KAFKA = env("KAFKA_BOOTSTRAP", "");
  static final String RUN = env("RUN_ID", Long.toString(System.currentTimeMillis(), 36)).replaceAll("[^A-Za-z0-9_-]", "_");
  static final String CLIENT = "java-" + org.apache.rocketmq.common.MQVersion.getVersionDesc(org.apache.rocketmq.common.MQVersion.CURRENT_VERSION);
  static final long T0 = System.currentTimeMillis();

  static String env(String k, String d) {
    String v = System.getenv(k);
    return v == null || v.isEmpty() ? d : v;
  }

  static void log(String s) {
    System.err.printf("[%s +%.1fs] %s%n", CLIENT, (System.currentTimeMillis() - T0) / 1000.0, s);
  }

  static final class Fail extends RuntimeException {
    Fail(String m) { super(m); }
  }

  static final class Skip extends RuntimeException {
    Skip(String m) { super(m); }
  }

  static void check(boolean cond, String msg) {
    if (!cond) throw new Fail(msg);
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static synchronized void stdout(String line) {
    System.out.println(line);
    System.out.flush();
  }

  static void result(boolean ok, String detail) {
    stdout("{\"ok\":" + ok + ",\"detail\":" + json(detail) + "}");
  }

  public static void main(String[] args) throws Exception {
    // Broadcasting consumers keep offsets in a local file: not in ~/.rocketmq_offsets.
    File offsets = Files.createTempDirectory("rmq-conformance-offsets-").toFile();
    System.setProperty("rocketmq.client.localOffsetStoreDir", offsets.getAbsolutePath());
    String scenario = args.length > 0 ? args[0] : "";
    String detail;
    int code = 0;
    try {
      switch (scenario) {
        case "send": detail = send(); break;
        case "cluster": detail = cluster(); break;
        case "broadcast": detail = broadcast(); break;
        case "orderly": detail = orderly(); break;
        case "litepull": detail = litepull(); break;
        case "filter-tag": detail = filterTag(); break;
        case "filter-sql": detail = filterSql(); break;
        case "retry-dlq": detail = retryDlq(); break;
        case "delay": detail = delay(); break;
        case "query": detail = query(); break;
        case "cross-kafka": detail = crossKafka(); break;
        case "admin":
          throw new Skip("the admin scenario is the mqadmin client's (mqadmin runs on the same DefaultMQAdminExt API)");
        case "admin-data": detail = adminData(args); break;
        default:
          result(false, "unknown scenario " + scenario);
          code = 2;
          detail = null;
      }
      if (detail != null) result(true, detail);
    } catch (Skip s) {
      stdout("{\"skip\":" + json(s.getMessage()) + "}");
    } catch (Fail f) {
      result(false, f.getMessage());
      code = 1;
    } catch (Throwable t) {
      Throwable c = t;
      while (c.getCause() != null && c != c.getCause()) c = c.getCause();
      log("exception: " + t);
      t.printStackTrace();
      result(false, t + (c != t ? " (cause: " + c + ")" : ""));
      code = 1;
    }
    deleteTree(offsets);
    // Client threads (netty, schedulers) are not all daemons: exit explicitly.
    System.exit(code);
  }

  static void deleteTree(File f) {
    File[] kids = f.listFiles();
    if (kids != null) for (File k : kids) deleteTree(k);
    f.delete();
  }

  // ---------------------------------------------------------------- helpers

  static final AtomicInteger INSTANCE = new AtomicInteger();

  /** A distinct client instance name: every producer/consumer gets its own MQClientInstance (clientId ip@name). */
  static String instance(String role) {
    return role + "-" + RUN + "-" + INSTANCE.incrementAndGet();
  }

  static DefaultMQProducer producer(String name) throws Exception {
    DefaultMQProducer p = new DefaultMQProducer("P_" + name + "_" + RUN);
    p.setNamesrvAddr(NAMESRV);
    p.setInstanceName(instance("p-" + name));
    p.setSendMsgTimeout(10_000);
    p.setRetryTimesWhenSendFailed(2);
    p.start();
    return p;
  }

  static DefaultMQAdminExt admin() throws Exception {
    DefaultMQAdminExt a = new DefaultMQAdminExt(10_000);
    a.setNamesrvAddr(NAMESRV);
    a.setInstanceName(instance("admin"));
    a.start();
    return a;
  }

  static DefaultMQPushConsumer pushConsumer(String group, String name) {
    DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
    c.setNamesrvAddr(NAMESRV);
    c.setInstanceName(instance(name));
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.setPersistConsumerOffsetInterval(1000);
    c.setAwaitTerminationMillisWhenShutdown(5000);
    return c;
  }

  /** setMessageModel(BROADCASTING): the enum moved packages between 4.9 and 5.x. */
  static void broadcasting(DefaultMQPushConsumer c) throws Exception {
    for (Method m : DefaultMQPushConsumer.class.getMethods()) {
      if (m.getName().equals("setMessageModel")) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object v = Enum.valueOf((Class) m.getParameterTypes()[0], "BROADCASTING");
        m.invoke(c, v);
        return;
      }
    }
    throw new IllegalStateException("no setMessageModel");
  }

  /** Master address of every broker the name server knows (UPDATE_AND_CREATE_TOPIC goes to each). */
  static List<String> masters(DefaultMQAdminExt a) throws Exception {
    var ci = a.examineBrokerClusterInfo();
    List<String> out = new ArrayList<>();
    for (var bd : ci.getBrokerAddrTable().values()) {
      String addr = bd.getBrokerAddrs().get(MixAll.MASTER_ID);
      if (addr != null) out.add(addr);
    }
    check(!out.isEmpty(), "the name server lists no master broker (GET_BROKER_CLUSTER_INFO)");
    return out;
  }

  /** Creates the topic on every master with `queues` read and write queues and waits until the route shows them. */
  static void createTopic(DefaultMQAdminExt a, String topic, int queues) throws Exception {
    for (String addr : masters(a)) {
      a.createAndUpdateTopicConfig(addr, new TopicConfig(topic, queues, queues, PermName.PERM_READ | PermName.PERM_WRITE));
    }
    waitRoute(a, topic, queues);
    log("topic " + topic + " created with " + queues + " queues");
  }

  /** Waits until the name server routes the topic with at least `queues` write queues in total. */
  static void waitRoute(DefaultMQAdminExt a, String topic, int queues) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    String last = "";
    while (true) {
      try {
        var route = a.examineTopicRouteInfo(topic);
        int n = 0;
        for (var qd : route.getQueueDatas()) n += qd.getWriteQueueNums();
        if (n >= queues) return;
        last = "route has " + n + " write queues";
      } catch (Exception e) {
        last = e.toString();
      }
      check(System.currentTimeMillis() < deadline, "no route for " + topic + " with " + queues + " queues after 30 s: " + last);
      Thread.sleep(200);
    }
  }

  static List<MessageQueue> sortedQueues(Collection<MessageQueue> mqs) {
    List<MessageQueue> l = new ArrayList<>(mqs);
    l.sort(Comparator.comparing(MessageQueue::getBrokerName).thenComparingInt(MessageQueue::getQueueId));
    return l;
  }

  static void waitFor(String what, long timeoutMs, Supplier<Boolean> cond, Supplier<String> state) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!cond.get()) {
      if (System.currentTimeMillis() > deadline) throw new Fail("timed out after " + timeoutMs / 1000 + " s waiting for " + what + ": " + state.get());
      Thread.sleep(50);
    }
  }

  /** Queues of `topic` the push consumer currently owns (rebalance result, not dropped). */
  static Set<Integer> owned(DefaultMQPushConsumer c, String topic) {
    Set<Integer> s = new TreeSet<>();
    for (var e : c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().entrySet()) {
      if (e.getKey().getTopic().equals(topic) && !e.getValue().isDropped()) s.add(e.getKey().getQueueId());
    }
    return s;
  }

  /** Waits until the consumers own pairwise disjoint, non-empty queue sets covering 0..queues-1, twice in a row. */
  static List<Set<Integer>> waitBalanced(List<DefaultMQPushConsumer> cs, String topic, int queues, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    int stable = 0;
    List<Set<Integer>> last = null;
    while (true) {
      List<Set<Integer>> now = new ArrayList<>();
      for (DefaultMQPushConsumer c : cs) now.add(owned(c, topic));
      Set<Integer> union = new TreeSet<>();
      int total = 0;
      boolean nonEmpty = true;
      for (Set<Integer> s : now) {
        union.addAll(s);
        total += s.size();
        nonEmpty &= !s.isEmpty();
      }
      boolean ok = nonEmpty && union.size() == queues && total == queues;
      stable = ok && now.equals(last) ? stable + 1 : ok ? 1 : 0;
      if (stable >= 2) return now;
      if (System.currentTimeMillis() > deadline) throw new Fail("rebalance did not settle within " + timeoutMs / 1000 + " s: assignments " + now);
      last = now;
      Thread.sleep(500);
    }
  }

  static String body(MessageExt m) {
    return new String(m.getBody(), StandardCharsets.UTF_8);
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static MessageQueueSelector BY_INDEX = (mqs, msg, arg) -> sortedQueues(mqs).get(((Integer) arg) % mqs.size());

  static void sendOk(SendResult r, String what) {
    check(r != null && r.getSendStatus() == SendStatus.SEND_OK, what + ": send status " + (r == null ? "null" : r.getSendStatus()));
  }

  static <T> Map<T, Integer> counts(Collection<T> xs) {
    Map<T, Integer> m = new HashMap<>();
    for (T x : xs) m.merge(x, 1, Integer::sum);
    return m;
  }

  static String firstFew(Collection<?> xs) {
    return xs.stream().limit(5).map(String::valueOf).collect(Collectors.joining(", ")) + (xs.size() > 5 ? ", … (" + xs.size() + ")" : "");
  }

  // ---------------------------------------------------------------- send

  static final class Expect {
    final String body, keys, tags;
    final Map<String, String> props;
    String msgId; // UNIQ_KEY from the send result (null for oneway)

    Expect(String body, String keys, String tags, Map<String, String> props) {
      this.body = body;
      this.keys = keys;
      this.tags = tags;
      this.props = props;
    }
  }

  static Message msg(String topic, Expect e) {
    Message m = new Message(topic, e.tags, e.keys, b(e.body));
    for (var p : e.props.entrySet()) m.putUserProperty(p.getKey(), p.getValue());
    return m;
  }

  /**
   * send: 10 sync (one with a 100 KB body, compressed by the client; one with two keys), 10 async, 10 oneway and one
   * batch of 10; then one push consumer reads the topic from the start and checks every message.
   */
  static String send() throws Exception {
    String topic = "T_send_" + RUN;
    DefaultMQProducer p = producer("send");
    DefaultMQAdminExt a = admin();
    Map<String, Expect> expected = new LinkedHashMap<>();
    List<Expect> list = new ArrayList<>();
    for (String kind : List.of("sync", "async", "oneway", "batch")) {
      for (int i = 0; i < 10; i++) {
        String bodyText = kind + "-" + i + "-\u00e9\u2713";
        if (kind.equals("sync") && i == 5) bodyText = bodyText + "-" + "0123456789abcdef".repeat(6400); // 100 KB
        String keys = kind.equals("sync") && i == 7 ? "k-" + kind + "-" + i + " alt-" + i : "k-" + kind + "-" + i;
        Map<String, String> props = new LinkedHashMap<>();
        props.put("kind", kind);
        props.put("i", Integer.toString(i));
        props.put("utf8", "\u00fcber \u4e2d\u6587");
        Expect e = new Expect(bodyText, keys, "Tag" + kind.substring(0, 1).toUpperCase() + kind.substring(1), props);
        expected.put(bodyText, e);
        list.add(e);
      }
    }
    // sync (auto-creates the topic through TBW102)
    for (Expect e : list.subList(0, 10)) {
      SendResult r = p.send(msg(topic, e));
      sendOk(r, "sync send");
      e.msgId = r.getMsgId();
      check(r.getOffsetMsgId() != null && !r.getOffsetMsgId().isEmpty(), "sync send result has no offsetMsgId");
      check(r.getMessageQueue() != null && r.getMessageQueue().getTopic().equals(topic), "sync send result queue " + r.getMessageQueue());
    }
    log("10 sync sends ok");
    // async
    CountDownLatch latch = new CountDownLatch(10);
    List<String> asyncErrors = Collections.synchronizedList(new ArrayList<>());
    for (Expect e : list.subList(10, 20)) {
      p.send(msg(topic, e), new SendCallback() {
        public void onSuccess(SendResult r) {
          if (r.getSendStatus() != SendStatus.SEND_OK) asyncErrors.add("status " + r.getSendStatus());
          e.msgId = r.getMsgId();
          latch.countDown();
        }

        public void onException(Throwable t) {
          asyncErrors.add(t.toString());
          latch.countDown();
        }
      });
    }
    check(latch.await(60, TimeUnit.SECONDS), "async sends: callbacks missing after 60 s");
    check(asyncErrors.isEmpty(), "async sends failed: " + asyncErrors);
    log("10 async sends ok");
    // oneway
    for (Expect e : list.subList(20, 30)) p.sendOneway(msg(topic, e));
    log("10 oneway sends done");
    // batch
    List<Message> batch = new ArrayList<>();
    for (Expect e : list.subList(30, 40)) batch.add(msg(topic, e));
    SendResult br = p.send(batch);
    sendOk(br, "batch send");
    String[] ids = br.getMsgId().split(",");
    check(ids.length == 10, "batch send result has " + ids.length + " msgIds, expected 10: " + br.getMsgId());
    for (int i = 0; i < 10; i++) list.get(30 + i).msgId = ids[i];
    log("batch of 10 ok");

    waitRoute(a, topic, 1);
    ConcurrentLinkedQueue<MessageExt> got = new ConcurrentLinkedQueue<>();
    DefaultMQPushConsumer c = pushConsumer("G_send_" + RUN, "c-send");
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      got.addAll(msgs);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    waitFor("40 messages", 60_000, () -> got.size() >= 40, () -> got.size() + " received");
    Thread.sleep(1500); // catch extra deliveries
    c.shutdown();
    p.shutdown();
    a.shutdown();

    Map<String, Integer> seen = counts(got.stream().map(Conformance::body).collect(Collectors.toList()));
    List<String> dupes = seen.entrySet().stream().filter(x -> x.getValue() > 1).map(Map.Entry::getKey).collect(Collectors.toList());
    check(dupes.isEmpty(), "delivered more than once: " + firstFew(dupes));
    Set<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(seen.keySet());
    check(missing.isEmpty(), "never delivered: " + firstFew(missing));
    check(got.size() == 40, got.size() + " messages delivered, expected 40");
    long now = System.currentTimeMillis();
    Map<String, String> batchUniq = new HashMap<>();
    Map<Integer, List<Long>> offsetsPerQueue = new TreeMap<>();
    for (MessageExt m : got) {
      Expect e = expected.get(body(m));
      String b = body(m);
      String what = "message " + (b.length() > 40 ? b.substring(0, 40) + "…" : b);
      check(m.getTopic().equals(topic), what + ": topic " + m.getTopic());
      check(Objects.equals(m.getKeys(), e.keys), what + ": keys " + m.getKeys() + ", expected " + e.keys);
      check(Objects.equals(m.getTags(), e.tags), what + ": tags " + m.getTags() + ", expected " + e.tags);
      for (var pe : e.props.entrySet()) {
        check(Objects.equals(m.getUserProperty(pe.getKey()), pe.getValue()),
            what + ": user property " + pe.getKey() + "=" + m.getUserProperty(pe.getKey()) + ", expected " + pe.getValue());
      }
      String uniq = m.getProperty("UNIQ_KEY");
      check(uniq != null && !uniq.isEmpty(), what + ": no UNIQ_KEY property");
      check(m.getMsgId().equals(uniq), what + ": msgId " + m.getMsgId() + " is not UNIQ_KEY " + uniq);
      if (e.props.get("kind").equals("batch")) batchUniq.put(body(m), uniq);
      else if (e.msgId != null) check(e.msgId.equals(uniq), what + ": UNIQ_KEY " + uniq + ", send result said " + e.msgId);
      check(m.getReconsumeTimes() == 0, what + ": reconsumeTimes " + m.getReconsumeTimes());
      check(Math.abs(m.getBornTimestamp() - now) < 120_000, what + ": bornTimestamp " + m.getBornTimestamp() + " not within 2 min of now");
      check(m.getStoreTimestamp() >= m.getBornTimestamp() - 5_000, what + ": storeTimestamp " + m.getStoreTimestamp() + " before bornTimestamp " + m.getBornTimestamp());
      String offsetMsgId = m instanceof MessageClientExt ? ((MessageClientExt) m).getOffsetMsgId() : null;
      check(offsetMsgId != null && !offsetMsgId.isEmpty(), what + ": no offsetMsgId");
      offsetsPerQueue.computeIfAbsent(m.getQueueId(), q -> new ArrayList<>()).add(m.getQueueOffset());
    }
    // Batch ids: the 4.9.8 client's batch keeps one UNIQ_KEY per message (= the ids of the send result). With the
    // 5.3.3 client, Apache 5.3.3 stores the batch-level UNIQ_KEY (set on the MessageBatch and appended to every inner
    // message's properties by the broker) on all ten, so the send result's per-message ids are never seen by
    // consumers. Either is accepted; the detail says which happened.
    String batchIds;
    boolean perMessage = list.subList(30, 40).stream().allMatch(e -> e.msgId.equals(batchUniq.get(e.body)));
    if (perMessage) batchIds = "per-message UNIQ_KEY = send result";
    else {
      check(new HashSet<>(batchUniq.values()).size() == 1,
          "batch: UNIQ_KEYs " + batchUniq.values() + " are neither the send result's " + br.getMsgId() + " nor one shared batch id");
      batchIds = "one shared batch UNIQ_KEY on all 10 (send result listed per-message ids)";
    }
    for (var qe : offsetsPerQueue.entrySet()) {
      List<Long> offs = new ArrayList<>(qe.getValue());
      Collections.sort(offs);
      for (int i = 0; i < offs.size(); i++) {
        check(offs.get(i) == i, "queue " + qe.getKey() + ": offsets " + offs + " are not 0..n-1");
      }
    }
    return "40 messages (10 sync incl. a 100 KB compressed body and a two-key message, 10 async, 10 oneway, batch of 10) read back once each"
        + " with keys, tags, 3 user properties, UNIQ_KEY = send-result msgId; batch: " + batchIds + "; queues " + offsetsPerQueue.keySet() + " with offsets 0..n-1";
  }

  // ---------------------------------------------------------------- cluster

  static final class Rec {
    final String consumer, body;
    final int queue;
    final long offset;

    Rec(String consumer, MessageExt m) {
      this.consumer = consumer;
      this.body = body(m);
      this.queue = m.getQueueId();
      this.offset = m.getQueueOffset();
    }
  }

  static DefaultMQPushConsumer recordingConsumer(String group, String topic, String name, ConcurrentLinkedQueue<Rec> sink) throws Exception {
    DefaultMQPushConsumer c = pushConsumer(group, name);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) sink.add(new Rec(name, m));
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    return c;
  }

  static int sendPerQueue(DefaultMQProducer p, String topic, String prefix, int queues, int perQueue) throws Exception {
    int n = 0;
    for (int i = 0; i < queues * perQueue; i++) {
      Message m = new Message(topic, "TagC", prefix + "-" + i, b(prefix + "-" + i));
      sendOk(p.send(m, BY_INDEX, i % queues), "send " + prefix + "-" + i);
      n++;
    }
    return n;
  }

  static Set<String> bodies(Collection<Rec> recs, String prefix) {
    return recs.stream().map(r -> r.body).filter(x -> x.startsWith(prefix + "-")).collect(Collectors.toSet());
  }

  static final int CLUSTER_QUEUES = 8, PER_QUEUE = 50;
  /** Re-deliveries tolerated after the owner of a queue changes: one pull batch (32) per moved queue. */
  static final int DUPES_PER_MOVED_QUEUE = 32;
  /** Re-reads of already-consumed messages tolerated after the broker restart (consumers were shut down cleanly). */
  static final int RESTART_REREAD_TOLERANCE = 16;

  /**
   * cluster: 3 push consumers of one group over an 8-queue topic; A: 400 messages consumed once among them with
   * disjoint assignments; c3 shuts down, the others take its queues and consume B (400); broker restart; C (400) is
   * consumed by a fresh member that resumes from the committed offsets.
   */
  static String cluster() throws Exception {
    String topic = "T_cluster_" + RUN, group = "G_cluster_" + RUN;
    int total = CLUSTER_QUEUES * PER_QUEUE;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, CLUSTER_QUEUES);
    a.shutdown();
    ConcurrentLinkedQueue<Rec> recs = new ConcurrentLinkedQueue<>();
    DefaultMQPushConsumer c1 = recordingConsumer(group, topic, "c1", recs);
    DefaultMQPushConsumer c2 = recordingConsumer(group, topic, "c2", recs);
    DefaultMQPushConsumer c3 = recordingConsumer(group, topic, "c3", recs);
    List<Set<Integer>> asg3 = waitBalanced(List.of(c1, c2, c3), topic, CLUSTER_QUEUES, 60_000);
    log("3 members: " + asg3);

    // A
    DefaultMQProducer p = producer("cluster");
    sendPerQueue(p, topic, "A", CLUSTER_QUEUES, PER_QUEUE);
    waitFor("phase A consumed", 60_000, () -> bodies(recs, "A").size() >= total, () -> bodies(recs, "A").size() + "/" + total);
    Thread.sleep(1000);
    List<Rec> phaseA = new ArrayList<>(recs);
    int dupA = phaseA.size() - bodies(phaseA, "A").size();
    check(dupA == 0, "phase A (stable assignment " + asg3 + "): " + dupA + " duplicate deliveries");
    String[] names = {"c1", "c2", "c3"};
    for (Rec r : phaseA) {
      int idx = Arrays.asList(names).indexOf(r.consumer);
      check(asg3.get(idx).contains(r.queue), "phase A: " + r.consumer + " consumed queue " + r.queue + " which it does not own " + asg3);
    }

    // B: c3 leaves
    c3.shutdown();
    List<Set<Integer>> asg2 = waitBalanced(List.of(c1, c2), topic, CLUSTER_QUEUES, 60_000);
    log("c3 left; 2 members: " + asg2);
    int before = recs.size();
    sendPerQueue(p, topic, "B", CLUSTER_QUEUES, PER_QUEUE);
    waitFor("phase B consumed", 60_000, () -> bodies(recs, "B").size() >= total, () -> bodies(recs, "B").size() + "/" + total);
    Thread.sleep(1000);
    List<Rec> afterA = new ArrayList<>(recs).subList(before, recs.size());
    for (Rec r : afterA) check(!r.consumer.equals("c3"), "c3 consumed " + r.body + " after it shut down");
    long bCount = afterA.stream().filter(r -> r.body.startsWith("B-")).count();
    check(bCount == total, "phase B: " + bCount + " deliveries of " + total + " messages (duplicates)");
    long aAgain = afterA.stream().filter(r -> r.body.startsWith("A-")).count();
    int moved = asg3.get(2).size();
    check(aAgain <= (long) moved * DUPES_PER_MOVED_QUEUE, "phase B: " + aAgain + " phase-A messages re-delivered after c3 left (tolerance " + moved * DUPES_PER_MOVED_QUEUE + ")");

    // Commit and leave cleanly, then restart the broker.
    Thread.sleep(2500); // persistConsumerOffsetInterval is 1 s
    c1.shutdown();
    c2.shutdown();
    p.shutdown();
    Thread.sleep(1000);
    int consumedBefore = recs.size();
    restartBroker();

    // C: a fresh member resumes from the committed offsets.
    DefaultMQProducer p2 = producer("cluster2");
    sendPerQueue(p2, topic, "C", CLUSTER_QUEUES, PER_QUEUE);
    DefaultMQPushConsumer c4 = recordingConsumer(group, topic, "c4", recs);
    waitFor("phase C consumed by the new member", 90_000, () -> bodies(recs, "C").size() >= total, () -> bodies(recs, "C").size() + "/" + total);
    Thread.sleep(2000);
    c4.shutdown();
    p2.shutdown();
    List<Rec> afterRestart = new ArrayList<>(recs).subList(consumedBefore, recs.size());
    long reread = afterRestart.stream().filter(r -> !r.body.startsWith("C-")).count();
    long cCount = afterRestart.stream().filter(r -> r.body.startsWith("C-")).count();
    check(reread <= RESTART_REREAD_TOLERANCE, "after the restart the new member re-read " + reread + " messages consumed before (tolerance " + RESTART_REREAD_TOLERANCE
        + "): committed offsets lost?");
    check(cCount == total, "phase C: " + cCount + " deliveries of " + total + " messages");
    return "3 members " + asg3 + " consumed " + total + " once; c3 left → " + asg2 + " consumed " + total + " more (" + aAgain
        + " re-deliveries, tolerance " + moved * DUPES_PER_MOVED_QUEUE + "); after a broker restart a new member consumed " + total
        + " new ones and re-read " + reread + " (tolerance " + RESTART_REREAD_TOLERANCE + ")";
  }

  static void restartBroker() throws Exception {
    log("asking the runner to restart the broker");
    stdout("{\"control\":\"restart-broker\"}");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    check("restarted".equals(line), "broker restart: runner answered " + line);
    log("broker restarted");
  }

  // ---------------------------------------------------------------- broadcast

  /** broadcast: 2 broadcasting consumers of one group each receive all 40 messages of a 4-queue topic. */
  static String broadcast() throws Exception {
    String topic = "T_broadcast_" + RUN, group = "G_broadcast_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 4);
    a.shutdown();
    List<ConcurrentLinkedQueue<String>> got = List.of(new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());
    List<DefaultMQPushConsumer> cs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ConcurrentLinkedQueue<String> sink = got.get(i);
      DefaultMQPushConsumer c = pushConsumer(group, "bc" + i);
      broadcasting(c);
      c.subscribe(topic, "*");
      c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
        for (MessageExt m : msgs) sink.add(body(m));
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      });
      c.start();
      cs.add(c);
    }
    waitFor("both broadcasting consumers to own all 4 queues", 60_000,
        () -> cs.stream().allMatch(c -> owned(c, topic).size() == 4), () -> cs.stream().map(c -> owned(c, topic).toString()).collect(Collectors.joining(" ")));
    DefaultMQProducer p = producer("broadcast");
    for (int i = 0; i < 40; i++) sendOk(p.send(new Message(topic, "TagB", "bk-" + i, b("bc-" + i)), BY_INDEX, i % 4), "send");
    waitFor("40 messages at each consumer", 60_000, () -> got.stream().allMatch(g -> new HashSet<>(g).size() >= 40),
        () -> got.get(0).size() + " and " + got.get(1).size());
    Thread.sleep(1500);
    for (DefaultMQPushConsumer c : cs) c.shutdown();
    p.shutdown();
    for (int i = 0; i < 2; i++) {
      check(got.get(i).size() == 40, "consumer " + i + " got " + got.get(i).size() + " deliveries of 40 messages");
    }
    return "2 broadcasting members of one group each received all 40 messages once";
  }

  // ---------------------------------------------------------------- orderly

  static final int ORDER_MSGS = 10_000, ORDER_KEYS = 100, ORDER_QUEUES = 8;

  static int queueOfKey(int k) {
    return Math.abs(("ok-" + k).hashCode()) % ORDER_QUEUES;
  }

  /**
   * orderly: 10,000 messages, keys ok-0..ok-99 each with a sequence number, sent by 4 threads (each key always from
   * the same thread) through a MessageQueueSelector that maps the key to a queue; an orderly push consumer checks
   * per-queue offset order, per-key sequence order and the key → queue mapping.
   */
  static String orderly() throws Exception {
    String topic = "T_orderly_" + RUN, group = "G_orderly_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, ORDER_QUEUES);
    a.shutdown();
    DefaultMQProducer p = producer("orderly");
    MessageQueueSelector byKey = (mqs, msg, arg) -> sortedQueues(mqs).get(queueOfKey((Integer) arg));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> fs = new ArrayList<>();
    long t0 = System.currentTimeMillis();
    for (int t = 0; t < 4; t++) {
      final int th = t;
      fs.add(pool.submit(() -> {
        for (int i = th; i < ORDER_MSGS; i += 4) {
          // message i: key (i / 4 * 4 + th) % 100 … simpler: key = i % 100 (i ≡ th mod 4 ⇒ key ≡ th mod 4, so one thread per key)
          int k = i % ORDER_KEYS, seq = i / ORDER_KEYS;
          Message m = new Message(topic, "TagO", "ok-" + k, b(k + ":" + seq));
          SendResult r = p.send(m, byKey, k);
          sendOk(r, "orderly send " + i);
          if (r.getMessageQueue().getQueueId() != queueOfKey(k)) throw new Fail("key ok-" + k + " went to queue " + r.getMessageQueue().getQueueId());
        }
        return null;
      }));
    }
    for (Future<?> f : fs) f.get(240, TimeUnit.SECONDS);
    pool.shutdown();
    log(ORDER_MSGS + " sent in " + (System.currentTimeMillis() - t0) + " ms");
    Map<Integer, List<long[]>> perQueue = new ConcurrentHashMap<>(); // queue → [offset, key, seq] in consumption order
    AtomicInteger n = new AtomicInteger();
    DefaultMQPushConsumer c = pushConsumer(group, "c-orderly");
    c.subscribe(topic, "*");
    c.setConsumeMessageBatchMaxSize(16);
    c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        String[] kv = body(m).split(":");
        perQueue.computeIfAbsent(m.getQueueId(), q -> Collections.synchronizedList(new ArrayList<>()))
            .add(new long[] {m.getQueueOffset(), Long.parseLong(kv[0]), Long.parseLong(kv[1])});
        n.incrementAndGet();
      }
      return ConsumeOrderlyStatus.SUCCESS;
    });
    c.start();
    waitFor(ORDER_MSGS + " messages", 180_000, () -> n.get() >= ORDER_MSGS, () -> n.get() + " consumed");
    Thread.sleep(1500);
    c.shutdown();
    p.shutdown();
    check(n.get() == ORDER_MSGS, n.get() + " deliveries of " + ORDER_MSGS + " messages");
    Map<Long, Long> lastSeq = new HashMap<>();
    for (var e : perQueue.entrySet()) {
      long prev = -1;
      for (long[] r : e.getValue()) {
        check(r[0] == prev + 1, "queue " + e.getKey() + ": offset " + r[0] + " consumed after " + prev + " (orderly consumption must be in offset order, no gaps)");
        prev = r[0];
        check(queueOfKey((int) r[1]) == e.getKey(), "key ok-" + r[1] + " consumed from queue " + e.getKey());
        long want = lastSeq.getOrDefault(r[1], -1L) + 1;
        check(r[2] == want, "key ok-" + r[1] + ": sequence " + r[2] + " after " + (want - 1));
        lastSeq.put(r[1], r[2]);
      }
    }
    check(lastSeq.size() == ORDER_KEYS, lastSeq.size() + " keys seen");
    return ORDER_MSGS + " messages over " + perQueue.size() + " queues consumed in offset order with per-key sequences intact";
  }

  // ---------------------------------------------------------------- litepull

  static List<MessageExt> pollUntil(DefaultLitePullConsumer c, int n, long timeoutMs) {
    List<MessageExt> out = new ArrayList<>();
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (out.size() < n && System.currentTimeMillis() < deadline) out.addAll(c.poll(200));
    long extra = System.currentTimeMillis() + 700;
    while (System.currentTimeMillis() < extra) out.addAll(c.poll(100));
    return out;
  }

  static String offsets(List<MessageExt> ms) {
    return ms.stream().map(m -> m.getQueueId() + "@" + m.getQueueOffset()).collect(Collectors.joining(","));
  }

  static void expectOffsets(List<MessageExt> got, Map<Integer, long[]> want, String step) {
    // want: queue → [from, toExclusive]
    Set<String> exp = new TreeSet<>();
    for (var e : want.entrySet()) for (long o = e.getValue()[0]; o < e.getValue()[1]; o++) exp.add(e.getKey() + "@" + o);
    List<String> have = got.stream().map(m -> m.getQueueId() + "@" + m.getQueueOffset()).collect(Collectors.toList());
    check(have.size() == new HashSet<>(have).size(), step + ": duplicates in " + have);
    check(new TreeSet<>(have).equals(exp), step + ": got " + new TreeSet<>(have) + ", expected " + exp);
    for (MessageExt m : got) check(body(m).equals("lp-" + m.getQueueId() + "-" + m.getQueueOffset()), step + ": body " + body(m) + " at " + m.getQueueId() + "@" + m.getQueueOffset());
  }

  interface Step {
    void run() throws Exception;
  }

  static int seekRetries = 0;

  /**
   * A seek cancels the queue's pull task; in the 5.3.3 client that interrupts the pull thread inside invokeSync,
   * which then closes the connection the seek's own GET_MIN_OFFSET/GET_MAX_OFFSET is using ("invokeSync: send
   * request exception, so close the channel" → RemotingSendRequestException). A client-side race, seen against
   * Diglot under load: retry the seek (at most twice) when it failed that way, and say so in the detail.
   */
  static void seekRetry(DefaultLitePullConsumer c, String what, Step step) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        step.run();
        return;
      } catch (Exception e) {
        Throwable t = e;
        boolean sendFailed = false;
        for (; t != null; t = t.getCause()) sendFailed |= t instanceof org.apache.rocketmq.remoting.exception.RemotingSendRequestException;
        if (!sendFailed || attempt >= 2) throw e;
        seekRetries++;
        log(what + " failed with a send exception (" + e + "): retrying");
        Thread.sleep(300);
      }
    }
  }

  /**
   * litepull: a 4-queue topic with 25 messages per queue; DefaultLitePullConsumer in assign mode: assign queues 0
   * and 1, poll all 50 from offset 0; seek(q0, 10) and seek(q1, 20), poll; seekToBegin(q1), poll; seekToEnd(q0), send 3 more to q0, poll;
   * commitSync and committed().
   */
  static String litepull() throws Exception {
    String topic = "T_litepull_" + RUN, group = "G_litepull_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 4);
    a.shutdown();
    DefaultMQProducer p = producer("litepull");
    for (int q = 0; q < 4; q++) {
      for (int o = 0; o < 25; o++) sendOk(p.send(new Message(topic, "TagL", b("lp-" + q + "-" + o)), BY_INDEX, q), "send");
    }
    DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
    c.setNamesrvAddr(NAMESRV);
    c.setInstanceName(instance("lp"));
    c.setAutoCommit(false);
    c.setPullBatchSize(8);
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.start();
    List<MessageQueue> mqs = sortedQueues(c.fetchMessageQueues(topic));
    check(mqs.size() == 4, "fetchMessageQueues: " + mqs);
    MessageQueue q0 = mqs.get(0), q1 = mqs.get(1);
    // assign() starts pulling at once (from the first offset: a new group); read that out first, so that no pull
    // with messages is in flight when the seeks below cancel the pull tasks (its result could land after the seek).
    c.assign(List.of(q0, q1));
    List<MessageExt> s0 = pollUntil(c, 50, 30_000);
    expectOffsets(s0, Map.of(0, new long[] {0, 25}, 1, new long[] {0, 25}), "after assign(q0,q1) (new group, first offset)");
    seekRetry(c, "seek(q0,10)", () -> c.seek(q0, 10));
    seekRetry(c, "seek(q1,20)", () -> c.seek(q1, 20));
    List<MessageExt> s1 = pollUntil(c, 20, 30_000);
    expectOffsets(s1, Map.of(0, new long[] {10, 25}, 1, new long[] {20, 25}), "after seek(q0,10), seek(q1,20)");
    seekRetry(c, "seekToBegin(q1)", () -> c.seekToBegin(q1));
    List<MessageExt> s2 = pollUntil(c, 25, 30_000);
    expectOffsets(s2, Map.of(1, new long[] {0, 25}), "after seekToBegin(q1)");
    seekRetry(c, "seekToEnd(q0)", () -> c.seekToEnd(q0));
    Thread.sleep(300);
    for (int o = 25; o < 28; o++) sendOk(p.send(new Message(topic, "TagL", b("lp-0-" + o)), BY_INDEX, 0), "send");
    List<MessageExt> s3 = pollUntil(c, 3, 30_000);
    expectOffsets(s3, Map.of(0, new long[] {25, 28}), "after seekToEnd(q0) and 3 new messages");
    c.commitSync();
    long deadline = System.currentTimeMillis() + 10_000;
    Long c0 = null, c1 = null;
    while (System.currentTimeMillis() < deadline) {
      c0 = c.committed(q0);
      c1 = c.committed(q1);
      if (c0 != null && c0 == 28 && c1 != null && c1 == 25) break;
      Thread.sleep(200);
    }
    check(c0 != null && c0 == 28 && c1 != null && c1 == 25, "committed() after commitSync: q0 " + c0 + " (want 28), q1 " + c1 + " (want 25)");
    c.shutdown();
    p.shutdown();
    return "assign → 50 from offset 0, seek 10/20 → " + s1.size() + " messages, seekToBegin → 25, seekToEnd + 3 new → 3, commitSync → committed 28/25"
        + (seekRetries > 0 ? "; " + seekRetries + " seek(s) retried after the client closed its own channel (see seekRetry)" : "");
  }

  // ---------------------------------------------------------------- filters

  static String filterRun(String name, Object subscription, List<Message> msgs, Set<String> expected) throws Exception {
    String topic = msgs.get(0).getTopic(), group = "G_" + name + "_" + RUN;
    ConcurrentLinkedQueue<MessageExt> got = new ConcurrentLinkedQueue<>();
    DefaultMQPushConsumer c = pushConsumer(group, "c-" + name);
    if (subscription instanceof MessageSelector) c.subscribe(topic, (MessageSelector) subscription);
    else c.subscribe(topic, (String) subscription);
    c.registerMessageListener((MessageListenerConcurrently) (ms, ctx) -> {
      got.addAll(ms);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    DefaultMQProducer p = producer(name);
    for (Message m : msgs) sendOk(p.send(m), "send");
    waitFor(expected.size() + " matching messages", 60_000, () -> got.size() >= expected.size(), () -> got.size() + " received");
    Thread.sleep(3000); // anything that should have been filtered out would have arrived by now
    c.shutdown();
    p.shutdown();
    List<String> bodies = got.stream().map(Conformance::body).sorted().collect(Collectors.toList());
    Set<String> unexpected = new TreeSet<>(bodies);
    unexpected.removeAll(expected);
    check(unexpected.isEmpty(), "delivered although they do not match: " + firstFew(unexpected));
    check(bodies.size() == expected.size() && new TreeSet<>(bodies).equals(new TreeSet<>(expected)), "got " + bodies + ", expected " + new TreeSet<>(expected));
    return bodies.size() + " of " + msgs.size() + " messages delivered, exactly the matching ones";
  }

  /** filter-tag: subscribe "TagA || TagC"; 30 messages TagA/TagB/TagC and 3 untagged: only the 20 A and C arrive. */
  static String filterTag() throws Exception {
    String topic = "T_ftag_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 4);
    a.shutdown();
    List<Message> msgs = new ArrayList<>();
    Set<String> expected = new TreeSet<>();
    String[] tags = {"TagA", "TagB", "TagC"};
    for (int i = 0; i < 30; i++) {
      String tag = tags[i % 3];
      msgs.add(new Message(topic, tag, b("ft-" + i + "-" + tag)));
      if (!tag.equals("TagB")) expected.add("ft-" + i + "-" + tag);
    }
    for (int i = 0; i < 3; i++) msgs.add(new Message(topic, b("ft-untagged-" + i)));
    return "subscription 'TagA || TagC': " + filterRun("ftag", "TagA || TagC", msgs, expected);
  }

  static final String SQL = "a BETWEEN 0 AND 3 AND b = 'x'";

  /** filter-sql: SQL92 "a BETWEEN 0 AND 3 AND b = 'x'" over user properties a (number), b (string). */
  static String filterSql() throws Exception {
    String topic = "T_fsql_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 4);
    a.shutdown();
    List<Message> msgs = new ArrayList<>();
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < 40; i++) {
      int av = i % 10;
      String bv = (i / 10) % 2 == 0 ? "x" : "y";
      Message m = new Message(topic, "TagS", b("fs-" + i + "-a" + av + "-b" + bv));
      m.putUserProperty("a", Integer.toString(av));
      m.putUserProperty("b", bv);
      msgs.add(m);
      if (av <= 3 && bv.equals("x")) expected.add("fs-" + i + "-a" + av + "-b" + bv);
    }
    Message noA = new Message(topic, "TagS", b("fs-no-a"));
    noA.putUserProperty("b", "x");
    msgs.add(noA);
    Message textA = new Message(topic, "TagS", b("fs-text-a"));
    textA.putUserProperty("a", "abc");
    textA.putUserProperty("b", "x");
    msgs.add(textA);
    return "SQL92 \"" + SQL + "\": " + filterRun("fsql", MessageSelector.bySql(SQL), msgs, expected);
  }

  // ---------------------------------------------------------------- retry-dlq

  /**
   * retry-dlq: maxReconsumeTimes 2, the listener always returns RECONSUME_LATER with delay level 1 (1 s): each of 2
   * messages is delivered 3 times (reconsumeTimes 0, 1, 2, at least 1 s (- 50 ms) apart), then lands in %DLQ%<group>, which a
   * lite pull consumer reads.
   */
  static String retryDlq() throws Exception {
    String topic = "T_retry_" + RUN, group = "G_retry_" + RUN, dlq = "%DLQ%" + group;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 1);
    Map<String, List<long[]>> deliveries = new ConcurrentHashMap<>(); // body → [reconsumeTimes, time]
    List<String> wrongTopic = Collections.synchronizedList(new ArrayList<>());
    DefaultMQPushConsumer c = pushConsumer(group, "c-retry");
    c.setMaxReconsumeTimes(2);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        if (!m.getTopic().equals(topic)) wrongTopic.add(m.getTopic());
        deliveries.computeIfAbsent(body(m), k -> Collections.synchronizedList(new ArrayList<>())).add(new long[] {m.getReconsumeTimes(), System.currentTimeMillis()});
        log("delivery of " + body(m) + " reconsumeTimes " + m.getReconsumeTimes());
      }
      ctx.setDelayLevelWhenNextConsume(1);
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    c.start();
    DefaultMQProducer p = producer("retry");
    List<String> bodies = List.of("rd-0", "rd-1");
    for (String bd : bodies) sendOk(p.send(new Message(topic, "TagR", "rk-" + bd, b(bd))), "send");
    waitFor("3 deliveries of each message", 90_000, () -> bodies.stream().allMatch(x -> deliveries.getOrDefault(x, List.of()).size() >= 3),
        () -> deliveries.entrySet().stream().map(e -> e.getKey() + "×" + e.getValue().size()).collect(Collectors.joining(" ")));
    // Give a (wrong) 4th delivery the chance to show up.
    Thread.sleep(4000);
    c.shutdown();
    p.shutdown();
    check(wrongTopic.isEmpty(), "retried messages seen with topic " + wrongTopic + " (the client restores RETRY_TOPIC)");
    List<Long> gaps = new ArrayList<>();
    for (String bd : bodies) {
      List<long[]> d = deliveries.get(bd);
      check(d.size() == 3, bd + ": " + d.size() + " deliveries, expected 3 (maxReconsumeTimes 2)");
      for (int i = 0; i < 3; i++) check(d.get(i)[0] == i, bd + ": delivery " + i + " has reconsumeTimes " + d.get(i)[0]);
      // The first time is taken before the listener returns, so the send-back (and its 1 s) comes after it.
      for (int i = 1; i < 3; i++) {
        long gap = d.get(i)[1] - d.get(i - 1)[1];
        check(gap >= 1000 - EARLY_TOLERANCE_MS, bd + ": redelivery " + i + " came " + gap + " ms after the previous one (delay level 1 = 1 s)");
        gaps.add(gap);
      }
    }
    waitRoute(a, dlq, 1);
    a.shutdown();
    log("route for " + dlq + " found");
    DefaultLitePullConsumer lp = new DefaultLitePullConsumer("G_dlqread_" + RUN);
    lp.setNamesrvAddr(NAMESRV);
    lp.setInstanceName(instance("dlq"));
    lp.setAutoCommit(false);
    // A new group reading from the first offset; no seekToBegin after assign(): assign() starts pulling at once, and
    // a seek racing with that first pull reads the queue twice (see litepull).
    lp.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    lp.start();
    List<MessageQueue> mqs = sortedQueues(lp.fetchMessageQueues(dlq));
    lp.assign(mqs);
    List<MessageExt> inDlq = pollUntil(lp, 2, 30_000);
    lp.shutdown();
    List<String> dl = inDlq.stream().map(Conformance::body).sorted().collect(Collectors.toList());
    check(dl.equals(bodies), dlq + " holds " + dl + ", expected " + bodies);
    for (MessageExt m : inDlq) {
      check(("rk-" + body(m)).equals(m.getKeys()), "DLQ message " + body(m) + ": keys " + m.getKeys());
      check(dlq.equals(m.getTopic()), "DLQ message topic " + m.getTopic());
    }
    return "2 messages delivered 3× each (reconsumeTimes 0,1,2; delay level 1: redeliveries " + Collections.min(gaps) + "–" + Collections.max(gaps)
        + " ms apart), then both in " + dlq + " (" + mqs.size() + " queue) with keys kept";
  }

  // ---------------------------------------------------------------- delay

  static final String TARGET = env("CONFORMANCE_TARGET", "diglot");
  /** A delayed message may be seen this much before its due time (clock reads on both sides of a send). */
  static final long EARLY_TOLERANCE_MS = 50;
  /**
   * Apache RocketMQ 5.3.3 rounds a timer message's delivery time down to its timerPrecisionMs (1 s; an exact multiple
   * loses a whole second: HookUtils.transformTimerMessage), so its timer messages come up to 1 s early. Only the
   * reference gets that allowance; Diglot is held to EARLY_TOLERANCE_MS.
   */
  static final long APACHE_TIMER_EARLY_MS = 1000;
  /** Lateness allowed after the due time (Apache's timer wheel has 1 s slots; a loaded machine adds more). */
  static final long LATE_TOLERANCE_MS = 5000;
  /** A message without delay must be consumed within this long after its send returned. */
  static final long IMMEDIATE_MS = 2000;
  /** Delay levels 1 and 2 of the default table (1s 5s 10s 30s 1m …), same on Diglot and Apache. */
  static final long[] LEVEL_MS = {0, 1000, 5000};

  static final class Sched {
    final String body, kind;
    final Message msg;
    long sendStart, sendEnd, dueMs, earlyMs;
    boolean delayed, asserted = true;
    SendResult result;

    Sched(String body, String kind, Message msg) {
      this.body = body;
      this.kind = kind;
      this.msg = msg;
    }
  }

  /** Message#setX(long) of the 5.x client (setDeliverTimeMs, setDelayTimeSec, setDelayTimeMs), or null on 4.9.8. */
  static Method messageSetter(String name) {
    try {
      return Message.class.getMethod(name, long.class);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /**
   * The timer property through the 5.x client's API where it has one, else put straight into the properties
   * (4.9.8 has no timer API; the broker reads the property either way).
   */
  static String timer(Message m, String api, String property, long value) throws Exception {
    Method set = messageSetter(api);
    if (set != null) {
      set.invoke(m, value);
      check(Long.toString(value).equals(m.getProperty(property)), api + "(" + value + ") set " + property + "=" + m.getProperty(property));
      return api;
    }
    MessageAccessor.putProperty(m, property, Long.toString(value));
    return "property " + property;
  }

  /**
   * delay: a 2-queue topic, a push consumer already consuming (a warm-up message went through), then messages with
   * delay level 1 and 2, the timer properties TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS (5.x API, or the
   * property set directly on 4.9.8) and three without delay. Each must arrive once, not before its due time, within
   * LATE_TOLERANCE_MS after it, on its topic and queue, with body, keys, tag, user properties and msgId intact.
   */
  static String delay() throws Exception {
    boolean apache = "rocketmq".equals(TARGET);
    String topic = "T_delay_" + RUN, group = "G_delay_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 2);
    a.shutdown();
    Map<String, List<Object[]>> got = new ConcurrentHashMap<>(); // body → [receive time ms, MessageExt]
    DefaultMQPushConsumer c = pushConsumer(group, "c-delay");
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      long now = System.currentTimeMillis();
      for (MessageExt m : msgs) got.computeIfAbsent(body(m), k -> Collections.synchronizedList(new ArrayList<>())).add(new Object[] {now, m});
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    DefaultMQProducer p = producer("delay");
    // Warm-up: the consumer has its queues and is pulling before any timing starts.
    sendOk(p.send(new Message(topic, "TagW", b("warm-up"))), "warm-up send");
    waitFor("the warm-up message", 60_000, () -> got.containsKey("warm-up"), () -> "nothing consumed yet");
    log("consumer ready");

    List<Sched> all = new ArrayList<>();
    String timerApi;
    for (int lvl = 1; lvl <= 2; lvl++) {
      for (int i = 0; i < 2; i++) {
        Sched s = new Sched("level" + lvl + "-" + i, "level " + lvl, new Message(topic, "TagL" + lvl, "dk-l" + lvl + "-" + i, null));
        s.msg.setDelayTimeLevel(lvl);
        s.dueMs = LEVEL_MS[lvl]; // relative until sent
        all.add(s);
      }
    }
    Sched deliver = new Sched("timer-deliver", "TIMER_DELIVER_MS", new Message(topic, "TagT", "dk-deliver", null));
    Sched sec = new Sched("timer-sec", "TIMER_DELAY_SEC", new Message(topic, "TagT", "dk-sec", null));
    Sched ms = new Sched("timer-ms", "TIMER_DELAY_MS", new Message(topic, "TagT", "dk-ms", null));
    all.add(deliver);
    all.add(sec);
    all.add(ms);
    for (int i = 0; i < 3; i++) all.add(new Sched("now-" + i, "no delay", new Message(topic, "TagN", "dk-now-" + i, null)));
    for (Sched s : all) {
      s.msg.setBody(b(s.body + "-\u00e9\u2713"));
      s.msg.putUserProperty("kind", s.kind);
      s.msg.putUserProperty("utf8", "\u00fcber \u4e2d\u6587");
      s.delayed = !s.kind.equals("no delay");
      s.earlyMs = EARLY_TOLERANCE_MS;
    }
    timerApi = timer(sec.msg, "setDelayTimeSec", "TIMER_DELAY_SEC", 2).startsWith("set") ? "the 5.x Message API" : "the properties set directly (4.9.8 has no timer API)";
    timer(ms.msg, "setDelayTimeMs", "TIMER_DELAY_MS", 2500);
    sec.dueMs = 2000;
    ms.dueMs = 2500;
    for (Sched s : List.of(deliver, sec, ms)) if (apache) s.earlyMs = APACHE_TIMER_EARLY_MS + EARLY_TOLERANCE_MS;
    // Send in an interleaved order: immediate ones between delayed ones.
    List<Sched> order = new ArrayList<>();
    for (String bd : List.of("level2-0", "now-0", "level1-0", "timer-deliver", "timer-sec", "now-1", "timer-ms", "level1-1", "level2-1", "now-2")) {
      order.add(all.stream().filter(s -> s.body.equals(bd)).findFirst().get());
    }
    for (Sched s : order) {
      if (s == deliver) {
        // Due beyond the delay index's near tier (~8 s): held in a bucket file, moved into LMDB before it is due.
        long at = System.currentTimeMillis() + 20_000;
        timer(s.msg, "setDeliverTimeMs", "TIMER_DELIVER_MS", at);
        s.sendStart = System.currentTimeMillis();
        s.result = p.send(s.msg);
        s.dueMs = at;
      } else {
        s.sendStart = System.currentTimeMillis();
        s.result = p.send(s.msg);
        s.dueMs += s.sendStart;
      }
      s.sendEnd = System.currentTimeMillis();
      sendOk(s.result, s.body + " send");
    }
    long lastDue = all.stream().mapToLong(s -> s.dueMs).max().getAsLong();
    log("sent " + all.size() + " messages; last due in " + (lastDue - System.currentTimeMillis()) + " ms");
    waitFor("all " + all.size() + " messages", lastDue - System.currentTimeMillis() + 60_000,
        () -> all.stream().allMatch(s -> got.containsKey(s.body + "-\u00e9\u2713")),
        () -> "missing " + all.stream().filter(s -> !got.containsKey(s.body + "-\u00e9\u2713")).map(s -> s.body).collect(Collectors.toList()));
    Thread.sleep(2000); // duplicates
    c.shutdown();
    p.shutdown();

    Set<String> expectedBodies = new HashSet<>();
    for (Sched s : all) expectedBodies.add(s.body + "-\u00e9\u2713");
    expectedBodies.add("warm-up");
    Set<String> stray = new TreeSet<>(got.keySet());
    stray.removeAll(expectedBodies);
    check(stray.isEmpty(), "unexpected messages consumed: " + firstFew(stray));
    List<String> timings = new ArrayList<>();
    long maxLate = 0, maxImmediate = 0;
    Set<String> delayProps = new TreeSet<>();
    for (Sched s : all) {
      List<Object[]> d = got.get(s.body + "-\u00e9\u2713");
      check(d.size() == 1, s.body + " (" + s.kind + "): delivered " + d.size() + " times");
      long at = (Long) d.get(0)[0];
      MessageExt m = (MessageExt) d.get(0)[1];
      String what = s.body + " (" + s.kind + ")";
      check(topic.equals(m.getTopic()), what + ": consumed from topic " + m.getTopic());
      check(m.getQueueId() == s.result.getMessageQueue().getQueueId(), what + ": sent to queue " + s.result.getMessageQueue().getQueueId() + ", consumed from queue " + m.getQueueId());
      check(Objects.equals(m.getKeys(), s.msg.getKeys()) && Objects.equals(m.getTags(), s.msg.getTags()), what + ": keys/tags " + m.getKeys() + "/" + m.getTags());
      check(s.kind.equals(m.getUserProperty("kind")) && "\u00fcber \u4e2d\u6587".equals(m.getUserProperty("utf8")), what + ": user properties " + m.getProperties());
      check(s.result.getMsgId().equals(m.getMsgId()), what + ": msgId " + m.getMsgId() + ", send result " + s.result.getMsgId());
      check(m.getReconsumeTimes() == 0, what + ": reconsumeTimes " + m.getReconsumeTimes());
      if (s.delayed) {
        // Apache keeps DELAY=<level> on the delivered message (ScheduleMessageService serializes the properties
        // before it clears DELAY); Diglot's contract removes it. Either is accepted; the detail says which.
        String dl = m.getProperty("DELAY");
        check(dl == null || dl.equals(s.msg.getProperty("DELAY")), what + ": DELAY property " + dl + " on the delivered message, sent " + s.msg.getProperty("DELAY"));
        if (s.msg.getProperty("DELAY") != null) delayProps.add(dl == null ? "removed" : "kept");
        check(topic.equals(m.getProperty("REAL_TOPIC")), what + ": REAL_TOPIC " + m.getProperty("REAL_TOPIC") + " (RocketMQ sets it to the topic sent to)");
        check(Integer.toString(s.result.getMessageQueue().getQueueId()).equals(m.getProperty("REAL_QID")), what + ": REAL_QID " + m.getProperty("REAL_QID"));
        long early = s.dueMs - at;
        check(early <= s.earlyMs, what + ": consumed " + early + " ms BEFORE its due time (sent at +" + (s.sendStart - T0) + " ms, due +" + (s.dueMs - T0)
            + " ms, consumed +" + (at - T0) + " ms; tolerance " + s.earlyMs + " ms)");
        long late = at - s.dueMs;
        check(late <= LATE_TOLERANCE_MS, what + ": consumed " + late + " ms after its due time (tolerance " + LATE_TOLERANCE_MS + " ms)");
        maxLate = Math.max(maxLate, late);
        timings.add(s.body + " " + (late >= 0 ? "+" : "") + late);
      } else {
        long lat = at - s.sendEnd;
        check(lat <= IMMEDIATE_MS, what + ": consumed " + lat + " ms after its send returned (no delay: within " + IMMEDIATE_MS + " ms)");
        maxImmediate = Math.max(maxImmediate, lat);
      }
    }
    return "10 messages (delay level 1 ×2, level 2 ×2, TIMER_DELIVER_MS/TIMER_DELAY_SEC/TIMER_DELAY_MS via " + timerApi + ", 3 without delay) each consumed once on its topic/queue with keys, tag, properties, msgId, REAL_TOPIC/REAL_QID; DELAY property " + String.join("/", delayProps) + " on delivery;"
        + " ms after due: " + String.join(", ", timings) + (apache ? " (Apache rounds timer times down to 1 s: allowed 1 s early)" : "")
        + "; no-delay messages within " + maxImmediate + " ms";
  }

  // ---------------------------------------------------------------- query

  /**
   * query: 5 messages with KEYS qk-<run>-i and one with two keys; producer.viewMessage(topic, offsetMsgId) (by
   * commit-log offset), admin.viewMessage(topic, UNIQ_KEY msgId) (index lookup), queryMessage by key (index, waits
   * for the index), by the second of two keys, and an unknown key.
   */
  static String query() throws Exception {
    String topic = "T_query_" + RUN;
    DefaultMQAdminExt a = admin();
    createTopic(a, topic, 4);
    DefaultMQProducer p = producer("query");
    long begin = System.currentTimeMillis() - 60_000;
    List<SendResult> rs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Message m = new Message(topic, "TagQ", "qk-" + RUN + "-" + i, b("q-" + i));
      m.putUserProperty("qi", Integer.toString(i));
      SendResult r = p.send(m);
      sendOk(r, "send");
      rs.add(r);
    }
    Message two = new Message(topic, "TagQ", "qa-" + RUN + " qb-" + RUN, b("q-two"));
    SendResult rTwo = p.send(two);
    sendOk(rTwo, "send");
    long end = System.currentTimeMillis() + 60_000;

    for (int i = 0; i < 5; i++) {
      MessageExt m = p.viewMessage(topic, rs.get(i).getOffsetMsgId());
      check(m != null && body(m).equals("q-" + i), "viewMessage(offsetMsgId " + rs.get(i).getOffsetMsgId() + "): " + (m == null ? "null" : body(m)));
      check(("qk-" + RUN + "-" + i).equals(m.getKeys()) && Integer.toString(i).equals(m.getUserProperty("qi")), "viewMessage: keys/properties " + m.getKeys() + " " + m.getProperties());
      check(m.getMsgId().equals(rs.get(i).getMsgId()) || rs.get(i).getMsgId().equals(m.getProperty("UNIQ_KEY")), "viewMessage: UNIQ_KEY " + m.getProperty("UNIQ_KEY"));
    }
    // Index lookups: the broker builds the index asynchronously, so retry for a while.
    MessageExt byUniq = retry(20_000, () -> a.viewMessage(topic, rs.get(2).getMsgId()));
    check(body(byUniq).equals("q-2"), "admin viewMessage(topic, UNIQ_KEY " + rs.get(2).getMsgId() + "): body " + body(byUniq));
    QueryResult qr = retry(20_000, () -> {
      QueryResult x = p.queryMessage(topic, "qk-" + RUN + "-3", 32, begin, end);
      if (x.getMessageList().isEmpty()) throw new Fail("empty");
      return x;
    });
    List<String> qb = qr.getMessageList().stream().map(Conformance::body).distinct().collect(Collectors.toList());
    check(qb.equals(List.of("q-3")), "queryMessage(key qk-…-3): " + qb);
    QueryResult q2 = retry(20_000, () -> a.queryMessage(topic, "qb-" + RUN, 32, begin, end));
    List<String> q2b = q2.getMessageList().stream().map(Conformance::body).distinct().collect(Collectors.toList());
    check(q2b.equals(List.of("q-two")), "queryMessage(second key of two): " + q2b);
    boolean noneFound;
    try {
      QueryResult none = p.queryMessage(topic, "nope-" + RUN, 32, begin, end);
      noneFound = none.getMessageList().isEmpty();
    } catch (Exception e) {
      noneFound = true; // MQClientException "query message by key finished, but no message."
    }
    check(noneFound, "queryMessage(unknown key) returned messages");
    p.shutdown();
    a.shutdown();
    return "viewMessage by offsetMsgId ×5, by UNIQ_KEY msgId, queryMessage by key and by the second of two keys, unknown key → none";
  }

  interface Call<T> {
    T call() throws Exception;
  }

  static <T> T retry(long ms, Call<T> f) throws Exception {
    long deadline = System.currentTimeMillis() + ms;
    while (true) {
      try {
        return f.call();
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) throw e;
        Thread.sleep(300);
      }
    }
  }

  // ---------------------------------------------------------------- cross-kafka

  /**
   * cross-kafka: a 4-partition topic created with Kafka's AdminClient; Kafka producer → RocketMQ push consumer
   * (value→body, key→KEYS, header TAGS→tag, headers→user properties); RocketMQ producer → Kafka consumer
   * (body→value, KEYS→key, TAGS/UNIQ_KEY/user properties→headers).
   */
  static String crossKafka() throws Exception {
    if (KAFKA.isEmpty()) throw new Skip("no Kafka listener on this target (KAFKA_BOOTSTRAP empty)");
    String topic = "T_xk_" + RUN, group = "G_xk_" + RUN;
    Properties kp = new Properties();
    kp.put("bootstrap.servers", KAFKA);
    kp.put("request.timeout.ms", "20000");
    kp.put("default.api.timeout.ms", "30000");
    try (var ka = org.apache.kafka.clients.admin.Admin.create(kp)) {
      ka.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 4, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    DefaultMQAdminExt a = admin();
    waitRoute(a, topic, 4);
    a.shutdown();
    ConcurrentLinkedQueue<MessageExt> got = new ConcurrentLinkedQueue<>();
    DefaultMQPushConsumer c = pushConsumer(group, "c-xk");
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (ms, ctx) -> {
      got.addAll(ms);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();

    Properties pp = new Properties();
    pp.putAll(kp);
    pp.put("key.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName());
    pp.put("value.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName());
    pp.put("acks", "all");
    try (var kprod = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(pp)) {
      for (int i = 0; i < 10; i++) {
        var rec = new org.apache.kafka.clients.producer.ProducerRecord<String, String>(topic, i % 4, "xk-" + i, "kv-" + i + "-\u00e9");
        rec.headers().add("TAGS", b("TagK"));
        rec.headers().add("hp", b("v-" + i));
        rec.headers().add("uni", b("\u00fcber"));
        kprod.send(rec).get(30, TimeUnit.SECONDS);
      }
    }
    waitFor("10 Kafka-produced records at the RocketMQ consumer", 60_000, () -> got.size() >= 10, () -> got.size() + " received");
    Thread.sleep(1000);
    c.shutdown();
    check(got.size() == 10, got.size() + " deliveries of 10 Kafka records");
    for (MessageExt m : got) {
      String bd = body(m);
      check(bd.startsWith("kv-") && bd.endsWith("-\u00e9"), "Kafka record seen with body " + bd);
      String i = bd.substring(3, bd.length() - 2);
      check(("xk-" + i).equals(m.getKeys()), bd + ": keys " + m.getKeys() + ", expected the Kafka key xk-" + i);
      check("TagK".equals(m.getTags()), bd + ": tags " + m.getTags() + ", expected the TAGS header TagK");
      check(("v-" + i).equals(m.getUserProperty("hp")) && "\u00fcber".equals(m.getUserProperty("uni")), bd + ": user properties " + m.getProperties());
      check(m.getQueueId() == Integer.parseInt(i) % 4, bd + ": queue " + m.getQueueId() + ", Kafka partition " + Integer.parseInt(i) % 4);
    }

    DefaultMQProducer p = producer("xk");
    Map<String, String> uniq = new HashMap<>();
    for (int i = 0; i < 10; i++) {
      Message m = new Message(topic, "TagR", "rk-" + i, b("rv-" + i));
      m.putUserProperty("rp", "w-" + i);
      SendResult r = p.send(m);
      sendOk(r, "send");
      uniq.put("rv-" + i, r.getMsgId());
    }
    p.shutdown();
    Properties cp = new Properties();
    cp.putAll(kp);
    cp.put("key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName());
    cp.put("value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName());
    cp.put("enable.auto.commit", "false");
    List<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> recs = new ArrayList<>();
    try (var kc = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(cp)) {
      List<org.apache.kafka.common.TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < 4; i++) tps.add(new org.apache.kafka.common.TopicPartition(topic, i));
      kc.assign(tps);
      kc.seekToBeginning(tps);
      long deadline = System.currentTimeMillis() + 60_000;
      while (recs.size() < 20 && System.currentTimeMillis() < deadline) kc.poll(Duration.ofMillis(200)).forEach(recs::add);
    }
    check(recs.size() == 20, "Kafka consumer read " + recs.size() + " records, expected 20 (10 Kafka + 10 RocketMQ)");
    int rocket = 0;
    for (var r : recs) {
      if (!r.value().startsWith("rv-")) continue;
      rocket++;
      String i = r.value().substring(3);
      check(("rk-" + i).equals(r.key()), r.value() + ": Kafka key " + r.key() + ", expected KEYS rk-" + i);
      Map<String, String> h = new HashMap<>();
      for (var hd : r.headers()) h.put(hd.key(), hd.value() == null ? null : new String(hd.value(), StandardCharsets.UTF_8));
      check("TagR".equals(h.get("TAGS")), r.value() + ": headers " + h + " lack TAGS=TagR");
      check(uniq.get(r.value()).equals(h.get("UNIQ_KEY")), r.value() + ": UNIQ_KEY header " + h.get("UNIQ_KEY") + ", send result msgId " + uniq.get(r.value()));
      check(("w-" + i).equals(h.get("rp")), r.value() + ": headers " + h + " lack rp=w-" + i);
    }
    check(rocket == 10, rocket + " RocketMQ-produced records seen by Kafka");
    return "10 Kafka records → RocketMQ (body, keys, tag, user properties, queue = partition); 10 RocketMQ messages → Kafka (value, key, TAGS/UNIQ_KEY/user headers)";
  }

  // ---------------------------------------------------------------- helper for the mqadmin cell

  /**
   * admin-data <topic> <group> <key> <n>: sends n messages with KEYS=key to the topic (which mqadmin created), then
   * consumes them with <group> (push, clustering) so consumerProgress has something to show; offsets are persisted
   * when the consumer shuts down. Prints {"ok":true,"detail":"...","uniq":[...],"offset":[...],"firstStore":ms}.
   */
  static String adminData(String[] args) throws Exception {
    check(args.length == 5, "usage: admin-data <topic> <group> <key> <n>");
    String topic = args[1], group = args[2], key = args[3];
    int n = Integer.parseInt(args[4]);
    DefaultMQProducer p = producer("admin");
    List<String> uniq = new ArrayList<>(), off = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Message m = new Message(topic, "TagAdm", key, b("adm-" + i));
      SendResult r = p.send(m, BY_INDEX, i);
      sendOk(r, "send");
      uniq.add(r.getMsgId());
      off.add(r.getOffsetMsgId());
    }
    p.shutdown();
    AtomicInteger got = new AtomicInteger();
    DefaultMQPushConsumer c = pushConsumer(group, "c-admin");
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (ms, ctx) -> {
      got.addAndGet(ms.size());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    waitFor(n + " messages", 60_000, () -> got.get() >= n, () -> got.get() + " consumed");
    Thread.sleep(2500);
    c.shutdown();
    Thread.sleep(500);
    String ids = uniq.stream().map(Conformance::json).collect(Collectors.joining(","));
    String offs = off.stream().map(Conformance::json).collect(Collectors.joining(","));
    stdout("{\"uniq\":[" + ids + "],\"offset\":[" + offs + "]}");
    return n + " sent and consumed by " + group;
  }
}
