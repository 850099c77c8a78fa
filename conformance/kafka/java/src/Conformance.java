// Conformance driver for Java kafka-clients. Compiled twice by ../pom.xml: against kafka-clients 3.9.x (v39/)
// and 4.x (v4/). Uses only API present in both lines.
//
//   java -cp '<classes>:<deps>/*' Conformance <scenario>
//   env: BOOTSTRAP=host:port, RUN_ID=<unique suffix for topic and group names>
//
// Prints progress on stderr, control lines ({"control":"restart-broker"}, then reads "restarted" from stdin) and one
// final line {"ok":bool,"detail":"..."} on stdout. See ../README.md for what each scenario checks.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Conformance {
  static final String BOOTSTRAP = env("BOOTSTRAP", "127.0.0.1:9092");
  static final String RUN = env("RUN_ID", Long.toString(System.currentTimeMillis(), 36));
  static final String CLIENT = "java-" + org.apache.kafka.common.utils.AppInfoParser.getVersion();

  static String env(String k, String d) {
    String v = System.getenv(k);
    return v == null || v.isEmpty() ? d : v;
  }

  static void log(String s) {
    System.err.println("[" + CLIENT + "] " + s);
  }

  static final class Fail extends RuntimeException {
    Fail(String m) { super(m); }
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

  static void result(boolean ok, String detail) {
    System.out.println("{\"ok\":" + ok + ",\"detail\":" + json(detail) + "}");
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    String scenario = args.length > 0 ? args[0] : "";
    String detail;
    try {
      switch (scenario) {
        case "roundtrip": detail = roundtrip(); break;
        case "idempotent": detail = idempotent(); break;
        case "order100k": detail = order100k(); break;
        case "group": detail = group(); break;
        case "seek-timestamp": detail = seekTimestamp(); break;
        case "admin": detail = adminScenario(); break;
        case "groups-admin": detail = groupsAdmin(); break;
        case "delay": detail = delay(); break;
        default:
          result(false, "unknown scenario " + scenario);
          System.exit(2);
          return;
      }
      result(true, detail);
      System.exit(0);
    } catch (Fail f) {
      result(false, f.getMessage());
      System.exit(1);
    } catch (Throwable t) {
      Throwable c = t;
      while (c.getCause() != null && c != c.getCause()) c = c.getCause();
      result(false, t + (c != t ? " (cause: " + c + ")" : ""));
      System.exit(1);
    }
  }

  // ---------------------------------------------------------------- helpers

  static Properties base() {
    Properties p = new Properties();
    p.put("bootstrap.servers", BOOTSTRAP);
    p.put("client.id", "conformance-" + CLIENT);
    return p;
  }

  static KafkaProducer<byte[], byte[]> producer(Map<String, Object> extra) {
    Properties p = base();
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("acks", "all");
    p.put("delivery.timeout.ms", "60000");
    p.put("request.timeout.ms", "20000");
    p.putAll(extra);
    return new KafkaProducer<>(p);
  }

  static KafkaConsumer<byte[], byte[]> consumer(String group, Map<String, Object> extra) {
    Properties p = base();
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    if (group != null) p.put("group.id", group);
    p.putAll(extra);
    return new KafkaConsumer<>(p);
  }

  static Admin admin() {
    Properties p = base();
    p.put("request.timeout.ms", "20000");
    p.put("default.api.timeout.ms", "30000");
    return Admin.create(p);
  }

  static void createTopic(Admin a, String name, int partitions, Map<String, String> configs) throws Exception {
    NewTopic t = new NewTopic(name, partitions, (short) 1);
    if (configs != null) t.configs(configs);
    a.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
    // Wait until metadata shows every partition with a leader.
    long deadline = System.currentTimeMillis() + 20000;
    while (true) {
      try {
        TopicDescription d = a.describeTopics(List.of(name)).allTopicNames().get(10, TimeUnit.SECONDS).get(name);
        if (d.partitions().size() == partitions && d.partitions().stream().allMatch(p -> p.leader() != null)) return;
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline) throw e;
      }
      check(System.currentTimeMillis() < deadline, "topic " + name + " not ready after create");
      Thread.sleep(100);
    }
  }

  static List<ConsumerRecord<byte[], byte[]>> consumeAssigned(String topic, List<Integer> partitions, int expected,
      long timeoutMs) {
    try (KafkaConsumer<byte[], byte[]> c = consumer(null, Map.of("max.poll.records", "5000"))) {
      List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p)).collect(Collectors.toList());
      c.assign(tps);
      c.seekToBeginning(tps);
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (out.size() < expected && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) out.add(r);
      }
      // Linger briefly to catch records beyond the expected count.
      long extra = System.currentTimeMillis() + 500;
      while (System.currentTimeMillis() < extra) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) out.add(r);
      }
      return out;
    }
  }

  static byte[] b(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  static String s(byte[] v) {
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- roundtrip

  /** The shared record set (README "roundtrip"): 20 records. */
  static final class Spec {
    final String key, value;
    final List<String[]> headers;
    final Long ts;

    Spec(int i, long base) {
      key = i % 5 == 4 ? null : "key-" + i;
      if (i == 7) value = null;
      else if (i == 10) value = "big-" + "0123456789abcdef".repeat(1250);
      else value = "value-" + i + "-\u00e9\u2713";
      headers = new ArrayList<>();
      if (i % 3 != 0) {
        headers.add(new String[] {"h1", "v" + i});
        headers.add(new String[] {"h2", "\u00fcber"});
        headers.add(new String[] {"h1", "dup"});
        headers.add(new String[] {"empty", ""});
      }
      ts = i % 2 == 0 ? base + i : null;
    }
  }

  static String roundtrip() throws Exception {
    List<String> done = new ArrayList<>();
    try (Admin a = admin()) {
      for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
        String topic = "rt-" + codec + "-java-" + RUN;
        createTopic(a, topic, 1, null);
        long base = System.currentTimeMillis() - 3_600_000L;
        long before = System.currentTimeMillis();
        List<Spec> specs = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = producer(Map.of("compression.type", codec, "linger.ms", "20"))) {
          List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
          for (int i = 0; i < 20; i++) {
            Spec sp = new Spec(i, base);
            specs.add(sp);
            List<Header> hs = new ArrayList<>();
            for (String[] h : sp.headers) hs.add(new RecordHeader(h[0], b(h[1])));
            fs.add(p.send(new ProducerRecord<>(topic, 0, sp.ts, b(sp.key), b(sp.value), hs)));
          }
          p.flush();
          for (var f : fs) f.get(30, TimeUnit.SECONDS);
        }
        long after = System.currentTimeMillis();
        List<ConsumerRecord<byte[], byte[]>> got = consumeAssigned(topic, List.of(0), 20, 30000);
        check(got.size() == 20, codec + ": consumed " + got.size() + " records, want 20");
        for (int i = 0; i < 20; i++) {
          Spec sp = specs.get(i);
          ConsumerRecord<byte[], byte[]> r = got.get(i);
          String where = codec + " record " + i + ": ";
          check(r.offset() == i, where + "offset " + r.offset());
          check(Objects.equals(s(r.key()), sp.key), where + "key " + s(r.key()) + " != " + sp.key);
          check(Objects.equals(s(r.value()), sp.value), where + "value differs (" + (r.value() == null ? "null" : r.value().length + " bytes") + ")");
          List<String[]> hs = new ArrayList<>();
          for (Header h : r.headers()) hs.add(new String[] {h.key(), s(h.value())});
          check(hs.size() == sp.headers.size(), where + "header count " + hs.size() + " != " + sp.headers.size());
          for (int j = 0; j < hs.size(); j++) {
            check(Arrays.equals(hs.get(j), sp.headers.get(j)), where + "header " + j + " " + Arrays.toString(hs.get(j)) + " != " + Arrays.toString(sp.headers.get(j)));
          }
          if (sp.ts != null) check(r.timestamp() == sp.ts, where + "timestamp " + r.timestamp() + " != " + sp.ts);
          else check(r.timestamp() >= before - 5000 && r.timestamp() <= after + 5000, where + "timestamp " + r.timestamp() + " outside [" + before + "," + after + "] ± 5 s");
          check(r.timestampType() == org.apache.kafka.common.record.TimestampType.CREATE_TIME, where + "timestamp type " + r.timestampType());
        }
        done.add(codec);
        log("roundtrip " + codec + " ok");
      }
    }
    return "20 records × " + String.join("/", done) + ": keys, null key/value, headers (dup keys, empty), timestamps match";
  }

  // ---------------------------------------------------------------- idempotent

  static String idempotent() throws Exception {
    int n = 5000;
    String topic = "idem-java-" + RUN;
    try (Admin a = admin()) {
      createTopic(a, topic, 1, null);
    }
    try (KafkaProducer<byte[], byte[]> p = producer(Map.of("enable.idempotence", "true", "retries",
        Integer.toString(Integer.MAX_VALUE), "max.in.flight.requests.per.connection", "5", "linger.ms", "1",
        "batch.size", "4096"))) {
      for (int i = 0; i < n; i++) p.send(new ProducerRecord<>(topic, 0, b("k" + (i % 10)), b(Integer.toString(i))));
      p.flush();
    }
    List<ConsumerRecord<byte[], byte[]>> got = consumeAssigned(topic, List.of(0), n, 60000);
    check(got.size() == n, "consumed " + got.size() + " records, want exactly " + n);
    for (int i = 0; i < n; i++) {
      check(Integer.toString(i).equals(s(got.get(i).value())), "record at offset " + i + " is " + s(got.get(i).value()));
    }
    return n + " records, idempotent producer (5 in flight, small batches): exactly once, in order";
  }

  // ---------------------------------------------------------------- order100k

  static String order100k() throws Exception {
    int n = 100_000, parts = 6;
    String topic = "order-java-" + RUN;
    try (Admin a = admin()) {
      createTopic(a, topic, parts, null);
    }
    long t0 = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> p = producer(Map.of("linger.ms", "5", "batch.size", "65536"))) {
      for (int i = 0; i < n; i++) p.send(new ProducerRecord<>(topic, b("key-" + (i % 1000)), b(Integer.toString(i))));
      p.flush();
    }
    long t1 = System.currentTimeMillis();
    List<ConsumerRecord<byte[], byte[]>> got = consumeAssigned(topic, List.of(0, 1, 2, 3, 4, 5), n, 120000);
    long t2 = System.currentTimeMillis();
    return checkOrder(got.stream().map(r -> new Rec(r.partition(), r.offset(), s(r.key()), s(r.value())))
        .collect(Collectors.toList()), n, parts) + String.format(" (produce %d ms, consume %d ms)", t1 - t0, t2 - t1);
  }

  record Rec(int partition, long offset, String key, String value) {}

  static String checkOrder(List<Rec> got, int n, int parts) {
    check(got.size() == n, "consumed " + got.size() + " records, want " + n);
    boolean[] seen = new boolean[n];
    Map<Integer, Long> lastOffset = new HashMap<>();
    Map<Integer, Integer> lastValue = new HashMap<>();
    Map<String, Integer> keyPartition = new HashMap<>();
    for (Rec r : got) {
      int v = Integer.parseInt(r.value());
      check(!seen[v], "record " + v + " consumed twice");
      seen[v] = true;
      check(r.key().equals("key-" + (v % 1000)), "record " + v + " has key " + r.key());
      Long lo = lastOffset.get(r.partition());
      check(lo == null || r.offset() == lo + 1, "partition " + r.partition() + ": offset " + r.offset() + " after " + lo);
      Integer lv = lastValue.get(r.partition());
      check(lv == null || v > lv, "partition " + r.partition() + ": record " + v + " after " + lv + " (order broken)");
      lastOffset.put(r.partition(), r.offset());
      lastValue.put(r.partition(), v);
      Integer kp = keyPartition.putIfAbsent(r.key(), r.partition());
      check(kp == null || kp == r.partition(), "key " + r.key() + " in partitions " + kp + " and " + r.partition());
    }
    check(lastOffset.size() == parts, "records landed in " + lastOffset.size() + " partitions, want " + parts);
    return n + " records over " + parts + " partitions, per-partition order and completeness ok";
  }

  // ---------------------------------------------------------------- group

  static final class Member {
    final String name;
    final KafkaConsumer<byte[], byte[]> c;
    final Map<TopicPartition, List<Long>> got = new HashMap<>();

    Member(String name, String group) {
      this.name = name;
      this.c = consumer(group, Map.of("session.timeout.ms", "10000", "heartbeat.interval.ms", "1000",
          "max.poll.interval.ms", "60000"));
    }

    int poll() {
      int k = 0;
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(50))) {
        got.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), x -> new ArrayList<>()).add(r.offset());
        k++;
      }
      return k;
    }

    int count() {
      return got.values().stream().mapToInt(List::size).sum();
    }
  }

  static boolean disjointCover(List<Member> ms, int parts) {
    Set<TopicPartition> all = new HashSet<>();
    int total = 0;
    for (Member m : ms) {
      Set<TopicPartition> a = m.c.assignment();
      if (a.isEmpty()) return false;
      total += a.size();
      all.addAll(a);
    }
    return total == parts && all.size() == parts;
  }

  static String assignments(List<Member> ms) {
    return ms.stream().map(m -> m.name + "=" + m.c.assignment().stream().map(TopicPartition::partition).sorted()
        .map(String::valueOf).collect(Collectors.joining(","))).collect(Collectors.joining(" "));
  }

  static void pollUntil(List<Member> ms, long timeoutMs, String what, java.util.function.BooleanSupplier cond) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!cond.getAsBoolean()) {
      check(System.currentTimeMillis() < deadline, "timed out waiting for " + what + "; assignments: " + assignments(ms));
      for (Member m : ms) m.poll();
    }
  }

  static void produceEach(String topic, int parts, int perPartition, String tag) throws Exception {
    try (KafkaProducer<byte[], byte[]> p = producer(Map.of("linger.ms", "5"))) {
      for (int part = 0; part < parts; part++)
        for (int i = 0; i < perPartition; i++)
          p.send(new ProducerRecord<>(topic, part, b("k" + i), b(tag + "-" + part + "-" + i)));
      p.flush();
    }
  }

  static String group() throws Exception {
    int parts = 6, per = 50;
    String topic = "grp-java-" + RUN, group = "grp-java-" + RUN;
    try (Admin a = admin()) {
      createTopic(a, topic, parts, null);
    }
    List<Member> ms = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Member m = new Member("c" + i, group);
      m.c.subscribe(List.of(topic));
      ms.add(m);
    }
    // Phase A: 3 members, disjoint cover of 6 partitions.
    pollUntil(ms, 60000, "3 members to share 6 partitions", () -> disjointCover(ms, parts));
    String phaseA = assignments(ms);
    log("phase A assignment " + phaseA);
    produceEach(topic, parts, per, "A");
    pollUntil(ms, 30000, "batch A (300 records)", () -> ms.stream().mapToInt(Member::count).sum() >= parts * per);
    for (Member m : ms) m.c.commitSync(Duration.ofSeconds(20));
    // Phase B: c3 leaves, c1 and c2 take over all 6 partitions.
    Member leaving = ms.remove(2);
    leaving.c.close(Duration.ofSeconds(20));
    pollUntil(ms, 60000, "2 remaining members to take all 6 partitions", () -> disjointCover(ms, parts));
    String phaseB = assignments(ms);
    log("phase B assignment " + phaseB);
    int countA = ms.stream().mapToInt(Member::count).sum();
    produceEach(topic, parts, per, "B");
    pollUntil(ms, 30000, "batch B (300 records)", () -> ms.stream().mapToInt(Member::count).sum() >= countA + parts * per);
    // Commit only the first half of batch B: offset 75 per partition. The rest (75..99) stays uncommitted.
    for (Member m : ms) {
      Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
      for (TopicPartition tp : m.c.assignment()) offs.put(tp, new OffsetAndMetadata(per + per / 2));
      m.c.commitSync(offs, Duration.ofSeconds(20));
    }
    // Every record of A and B consumed exactly once across the members.
    Map<TopicPartition, List<Long>> all = new HashMap<>();
    for (Member m : List.of(ms.get(0), ms.get(1), leaving))
      m.got.forEach((tp, l) -> all.computeIfAbsent(tp, x -> new ArrayList<>()).addAll(l));
    for (int part = 0; part < parts; part++) {
      List<Long> l = new ArrayList<>(all.getOrDefault(new TopicPartition(topic, part), List.of()));
      Collections.sort(l);
      List<Long> want = new ArrayList<>();
      for (long o = 0; o < 2 * per; o++) want.add(o);
      check(l.equals(want), "before restart, partition " + part + " consumed offsets " + summarize(l) + ", want 0.." + (2 * per - 1) + " once");
    }
    for (Member m : ms) m.c.close(Duration.ofSeconds(20));

    restartBroker();

    produceEach(topic, parts, per, "C");
    List<Member> after = new ArrayList<>();
    // One fresh member: two would re-read each other's uncommitted records during their first rebalance.
    for (int i = 1; i <= 1; i++) {
      Member m = new Member("r" + i, group);
      m.c.subscribe(List.of(topic));
      after.add(m);
    }
    int want = parts * (per / 2 + per);
    pollUntil(after, 90000, "resume after restart (" + want + " records)",
        () -> after.stream().mapToInt(Member::count).sum() >= want);
    long linger = System.currentTimeMillis() + 1500;
    while (System.currentTimeMillis() < linger) for (Member m : after) m.poll();
    Map<TopicPartition, List<Long>> res = new HashMap<>();
    for (Member m : after) m.got.forEach((tp, l) -> res.computeIfAbsent(tp, x -> new ArrayList<>()).addAll(l));
    for (Member m : after) m.c.close(Duration.ofSeconds(10));
    for (int part = 0; part < parts; part++) {
      List<Long> l = new ArrayList<>(res.getOrDefault(new TopicPartition(topic, part), List.of()));
      Collections.sort(l);
      List<Long> w = new ArrayList<>();
      for (long o = per + per / 2; o < 3 * per; o++) w.add(o);
      check(l.equals(w), "after restart, partition " + part + " consumed offsets " + summarize(l) + ", want " + (per + per / 2) + ".." + (3 * per - 1) + " once");
    }
    return "3 members [" + phaseA + "] → c3 left [" + phaseB + "]; committed 75/partition; after broker restart a fresh member resumed at 75: no loss, no re-delivery of committed records";
  }

  static String summarize(List<Long> l) {
    if (l.isEmpty()) return "[]";
    return "[" + l.size() + " offsets, " + l.get(0) + ".." + l.get(l.size() - 1) + "]";
  }

  static void restartBroker() throws Exception {
    System.out.println("{\"control\":\"restart-broker\"}");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    check("restarted".equals(line == null ? null : line.trim()), "runner did not restart the broker: " + line);
    log("broker restarted");
  }

  // ---------------------------------------------------------------- seek-timestamp

  static String seekTimestamp() throws Exception {
    String topic = "ts-java-" + RUN;
    long base = System.currentTimeMillis() - 3_600_000L;
    try (Admin a = admin()) {
      createTopic(a, topic, 1, null);
    }
    try (KafkaProducer<byte[], byte[]> p = producer(Map.of())) {
      for (int i = 0; i < 30; i++) p.send(new ProducerRecord<>(topic, 0, base + i * 1000L, b("k" + i), b("v" + i)));
      p.flush();
    }
    TopicPartition tp = new TopicPartition(topic, 0);
    try (KafkaConsumer<byte[], byte[]> c = consumer(null, Map.of())) {
      c.assign(List.of(tp));
      OffsetAndTimestamp exact = c.offsetsForTimes(Map.of(tp, base + 10_000L)).get(tp);
      check(exact != null && exact.offset() == 10 && exact.timestamp() == base + 10_000L, "offsetsForTimes(ts of #10) = " + exact);
      OffsetAndTimestamp between = c.offsetsForTimes(Map.of(tp, base + 10_500L)).get(tp);
      check(between != null && between.offset() == 11, "offsetsForTimes(between #10 and #11) = " + between);
      OffsetAndTimestamp early = c.offsetsForTimes(Map.of(tp, base - 100_000L)).get(tp);
      check(early != null && early.offset() == 0, "offsetsForTimes(before first) = " + early);
      OffsetAndTimestamp late = c.offsetsForTimes(Map.of(tp, base + 1_000_000L)).get(tp);
      check(late == null, "offsetsForTimes(after last) = " + late + ", want none");
      long end = c.endOffsets(List.of(tp)).get(tp), begin = c.beginningOffsets(List.of(tp)).get(tp);
      check(end == 30 && begin == 0, "beginning/end offsets " + begin + "/" + end);
      c.seek(tp, exact.offset());
      List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 20000;
      while (got.size() < 20 && System.currentTimeMillis() < deadline) c.poll(Duration.ofMillis(200)).forEach(got::add);
      check(got.size() == 20, "consumed " + got.size() + " records from offset 10, want 20");
      for (int i = 0; i < 20; i++) {
        ConsumerRecord<byte[], byte[]> r = got.get(i);
        check(r.offset() == 10 + i && r.timestamp() == base + (10 + i) * 1000L && ("v" + (10 + i)).equals(s(r.value())),
            "record " + i + " after seek: offset " + r.offset() + " ts " + r.timestamp() + " value " + s(r.value()));
      }
    }
    return "offsetsForTimes exact/between/before/after-last ok; consumed 20 records from the found offset";
  }

  // ---------------------------------------------------------------- admin

  static String configValue(Admin a, String topic, String key) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config c = a.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
    ConfigEntry e = c.get(key);
    return e == null ? null : e.value();
  }

  /** Polls describeConfigs for up to 10 s (Kafka applies config changes asynchronously); returns the last value. */
  static String awaitConfig(Admin a, String topic, String key, java.util.function.Predicate<String> want) throws Exception {
    long deadline = System.currentTimeMillis() + 10000;
    while (true) {
      String v = configValue(a, topic, key);
      if (want.test(v) || System.currentTimeMillis() > deadline) return v;
      Thread.sleep(100);
    }
  }

  static String adminScenario() throws Exception {
    String topic = "adm-java-" + RUN;
    List<String> steps = new ArrayList<>();
    try (Admin a = admin()) {
      createTopic(a, topic, 3, Map.of("retention.ms", "123456789"));
      steps.add("create");
      TopicDescription d = a.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
      check(d.partitions().size() == 3, "describeTopics: " + d.partitions().size() + " partitions, want 3");
      check(d.topicId() != null && !d.topicId().equals(org.apache.kafka.common.Uuid.ZERO_UUID), "describeTopics: no topic id");
      check(a.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic), "listTopics lacks " + topic);
      steps.add("describe-topics");
      DescribeClusterResult cl = a.describeCluster();
      Collection<Node> nodes = cl.nodes().get(30, TimeUnit.SECONDS);
      String cid = cl.clusterId().get(30, TimeUnit.SECONDS);
      Node ctrl = cl.controller().get(30, TimeUnit.SECONDS);
      check(!nodes.isEmpty(), "describeCluster: no nodes");
      check(cid != null && !cid.isEmpty(), "describeCluster: no cluster id");
      steps.add("describe-cluster(" + nodes.size() + " node, controller " + (ctrl == null ? "none" : ctrl.id()) + ")");
      { String v = awaitConfig(a, topic, "retention.ms", "123456789"::equals); check("123456789".equals(v), "describeConfigs retention.ms = " + v); }
      String cp = awaitConfig(a, topic, "cleanup.policy", "delete"::equals);
      check("delete".equals(cp), "describeConfigs cleanup.policy = " + cp + ", want the default delete");
      steps.add("describe-configs");
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      a.incrementalAlterConfigs(Map.of(r, List.of(
          new AlterConfigOp(new ConfigEntry("retention.ms", "987654321"), AlterConfigOp.OpType.SET),
          new AlterConfigOp(new ConfigEntry("max.message.bytes", "2000000"), AlterConfigOp.OpType.SET))))
          .all().get(30, TimeUnit.SECONDS);
      { String v = awaitConfig(a, topic, "retention.ms", "987654321"::equals); check("987654321".equals(v), "after incrementalAlterConfigs retention.ms = " + v); }
      { String v = awaitConfig(a, topic, "max.message.bytes", "2000000"::equals); check("2000000".equals(v), "after incrementalAlterConfigs max.message.bytes = " + v); }
      a.incrementalAlterConfigs(Map.of(r, List.of(
          new AlterConfigOp(new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE))))
          .all().get(30, TimeUnit.SECONDS);
      String mmb = awaitConfig(a, topic, "max.message.bytes", v -> !"2000000".equals(v));
      check(!"2000000".equals(mmb), "after DELETE max.message.bytes still 2000000");
      steps.add("incremental-alter-configs(set, delete)");
      a.createPartitions(Map.of(topic, NewPartitions.increaseTo(5))).all().get(30, TimeUnit.SECONDS);
      long deadline = System.currentTimeMillis() + 20000;
      int n;
      do {
        n = a.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
        if (n != 5) Thread.sleep(100);
      } while (n != 5 && System.currentTimeMillis() < deadline);
      check(n == 5, "after createPartitions(5): " + n + " partitions");
      steps.add("create-partitions(3→5)");
      a.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
      deadline = System.currentTimeMillis() + 20000;
      boolean gone;
      do {
        gone = !a.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic);
        if (!gone) Thread.sleep(100);
      } while (!gone && System.currentTimeMillis() < deadline);
      check(gone, "topic still listed 20 s after deleteTopics");
      steps.add("delete-topic");
    }
    return String.join(", ", steps);
  }

  // ---------------------------------------------------------------- groups-admin

  static String groupState(ConsumerGroupDescription d) {
    for (String m : List.of("groupState", "state")) {
      try {
        return String.valueOf(d.getClass().getMethod(m).invoke(d));
      } catch (ReflectiveOperationException ignored) {
        // try the next accessor name
      }
    }
    return "?";
  }

  static String groupsAdmin() throws Exception {
    String topic = "gadm-java-" + RUN, group = "gadm-java-" + RUN;
    List<String> steps = new ArrayList<>();
    try (Admin a = admin()) {
      createTopic(a, topic, 2, null);
      produceEach(topic, 2, 10, "G");
      Member m = new Member("g1", group);
      m.c.subscribe(List.of(topic));
      List<Member> ms = List.of(m);
      pollUntil(ms, 60000, "20 records in the group", () -> m.count() >= 20);
      m.c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(7),
          new TopicPartition(topic, 1), new OffsetAndMetadata(10)), Duration.ofSeconds(20));
      // While the member is active.
      ConsumerGroupDescription live = a.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
      check(live.members().size() == 1, "describeConsumerGroups (active): " + live.members().size() + " members, want 1");
      check(groupState(live).equalsIgnoreCase("stable"), "describeConsumerGroups (active): state " + groupState(live));
      Set<TopicPartition> assigned = live.members().iterator().next().assignment().topicPartitions();
      check(assigned.size() == 2, "describeConsumerGroups (active): member assignment " + assigned);
      steps.add("describe(active: stable, 1 member, 2 partitions)");
      m.c.close(Duration.ofSeconds(20));
      boolean listed = a.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream().anyMatch(g -> g.groupId().equals(group));
      check(listed, "listConsumerGroups lacks " + group);
      steps.add("list");
      ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
      check(groupState(d).equalsIgnoreCase("empty") && d.members().isEmpty(), "describeConsumerGroups (after close): state " + groupState(d) + ", " + d.members().size() + " members");
      steps.add("describe(empty)");
      Map<TopicPartition, OffsetAndMetadata> offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      check(offs.size() == 2 && offs.get(new TopicPartition(topic, 0)).offset() == 7 && offs.get(new TopicPartition(topic, 1)).offset() == 10,
          "listConsumerGroupOffsets = " + offs);
      steps.add("list-offsets(7,10)");
      a.deleteConsumerGroupOffsets(group, Set.of(new TopicPartition(topic, 0))).all().get(30, TimeUnit.SECONDS);
      offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
      check(!offs.containsKey(new TopicPartition(topic, 0)) || offs.get(new TopicPartition(topic, 0)) == null, "after deleteConsumerGroupOffsets(p0): " + offs);
      check(offs.get(new TopicPartition(topic, 1)) != null && offs.get(new TopicPartition(topic, 1)).offset() == 10, "after deleteConsumerGroupOffsets(p0), p1 = " + offs.get(new TopicPartition(topic, 1)));
      steps.add("delete-offsets(p0)");
      a.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
      listed = a.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream().anyMatch(g -> g.groupId().equals(group));
      check(!listed, "group still listed after deleteConsumerGroups");
      steps.add("delete-group");
      a.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
    }
    return String.join(", ", steps);
  }

  // ---------------------------------------------------------------- delay

  /** A delayed record may be seen this much before its due time (clock reads around the produce call). */
  static final long DELAY_EARLY_MS = 50;
  /** ... and at most this long after it. */
  static final long DELAY_LATE_MS = 5000;
  /** A record without delay headers must be consumed within this long after the produce call returned. */
  static final long IMMEDIATE_MS = 2000;

  /** One record of the delay scenario (README "delay"): name, partition, delay header (null: none) and its value. */
  static final class DSpec {
    final String name, header;
    final int partition;
    final long rel; // relative delay ms (TIMER_DELAY_MS, DELAY level 1); -1 for TIMER_DELIVER_MS
    String headerValue;
    long due, at = -1, offset;
    int count;
    List<String[]> gotHeaders;
    byte[] gotKey, gotValue;
    int gotPartition;

    DSpec(String name, int partition, String header, String value, long rel) {
      this.name = name;
      this.partition = partition;
      this.header = header;
      this.headerValue = value;
      this.rel = rel;
    }

    String key() { return "dk-" + name; }
    String value() { return name + "-\u00e9\u2713"; }
    String kind() { return header == null ? "none" : header; }

    List<String[]> headers() {
      List<String[]> h = new ArrayList<>();
      h.add(new String[] {"kind", kind()});
      if (header != null) h.add(new String[] {header, headerValue});
      h.add(new String[] {"u", "\u00fcber \u2713"});
      return h;
    }
  }

  /** The shared record set, in produce order: 6 delayed (2 each of TIMER_DELAY_MS, TIMER_DELIVER_MS, DELAY) and 4 without. */
  static List<DSpec> delaySpecs() {
    return List.of(
        new DSpec("now-0", 0, null, null, 0),
        new DSpec("ms-0", 0, "TIMER_DELAY_MS", "1500", 1500),
        new DSpec("at-1", 1, "TIMER_DELIVER_MS", null, -1),
        new DSpec("lvl-0", 0, "DELAY", "1", 1000),
        new DSpec("now-1", 1, null, null, 0),
        new DSpec("ms-1", 1, "TIMER_DELAY_MS", "1500", 1500),
        new DSpec("at-0", 0, "TIMER_DELIVER_MS", null, -1),
        new DSpec("lvl-1", 1, "DELAY", "1", 1000),
        new DSpec("now-2", 0, null, null, 0),
        new DSpec("now-3", 1, null, null, 0));
  }

  /**
   * delay: a 2-partition topic with diglot.delay.enable=true; a consumer assigned to both partitions is already
   * reading (a warm-up record per partition came through); then one flush of 10 records: TIMER_DELAY_MS=1500,
   * TIMER_DELIVER_MS=now+2500, DELAY=1 (1 s), 2 each, and 4 without delay headers.
   */
  static String delay() throws Exception {
    String topic = "delay-java-" + RUN;
    try (Admin a = admin()) {
      createTopic(a, topic, 2, Map.of("diglot.delay.enable", "true"));
    }
    List<DSpec> specs = delaySpecs();
    Map<String, DSpec> byValue = new HashMap<>();
    for (DSpec d : specs) byValue.put(d.value(), d);
    List<String> strays = new ArrayList<>();
    Set<String> warm = new HashSet<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(null, Map.of("fetch.max.wait.ms", "100"));
         KafkaProducer<byte[], byte[]> p = producer(Map.of("linger.ms", "5"))) {
      List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
      c.assign(tps);
      c.seekToBeginning(tps);
      for (int part = 0; part < 2; part++) p.send(new ProducerRecord<>(topic, part, b("warm"), b("warm-up-" + part))).get(30, TimeUnit.SECONDS);
      long deadline = System.currentTimeMillis() + 30000;
      while (warm.size() < 2) {
        check(System.currentTimeMillis() < deadline, "the 2 warm-up records (no delay headers) were not consumed within 30 s: " + warm);
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) warm.add(s(r.value()));
      }
      log("consumer ready");
      long sendStart = System.currentTimeMillis();
      List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
      for (DSpec d : specs) {
        if (d.rel < 0) {
          d.due = System.currentTimeMillis() + 2500;
          d.headerValue = Long.toString(d.due);
        } else {
          d.due = sendStart + d.rel;
        }
        List<Header> hs = new ArrayList<>();
        for (String[] h : d.headers()) hs.add(new RecordHeader(h[0], b(h[1])));
        fs.add(p.send(new ProducerRecord<>(topic, d.partition, null, b(d.key()), b(d.value()), hs)));
      }
      p.flush();
      for (int i = 0; i < fs.size(); i++) specs.get(i).offset = fs.get(i).get(30, TimeUnit.SECONDS).offset();
      long sendEnd = System.currentTimeMillis();
      long lastDue = specs.stream().mapToLong(d -> d.due).max().getAsLong();
      log("produced " + specs.size() + " records in " + (sendEnd - sendStart) + " ms; last due in " + (lastDue - sendEnd) + " ms");
      deadline = lastDue + 30000;
      long linger = -1;
      while (System.currentTimeMillis() < deadline && (linger < 0 || System.currentTimeMillis() < linger)) {
        ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(50));
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
          DSpec d = byValue.get(s(r.value()));
          if (d == null) {
            if (!warm.contains(s(r.value()))) strays.add(r.partition() + "@" + r.offset() + " " + s(r.value()));
            continue;
          }
          if (d.count++ == 0) {
            d.at = now;
            d.gotKey = r.key();
            d.gotValue = r.value();
            d.gotPartition = r.partition();
            d.gotHeaders = new ArrayList<>();
            for (Header h : r.headers()) d.gotHeaders.add(new String[] {h.key(), s(h.value())});
          }
        }
        if (linger < 0 && specs.stream().allMatch(d -> d.count > 0)) linger = now + 1500; // duplicates
      }
      return checkDelay(specs, strays, sendStart, sendEnd);
    }
  }

  static String checkDelay(List<DSpec> specs, List<String> strays, long sendStart, long sendEnd) {
    List<String> missing = specs.stream().filter(d -> d.count == 0).map(d -> d.name).collect(Collectors.toList());
    check(missing.isEmpty(), "never consumed (30 s after the last due time): " + missing);
    check(strays.isEmpty(), "unexpected records consumed: " + strays);
    Set<String> ids = new HashSet<>();
    List<String> timings = new ArrayList<>();
    long maxImmediate = 0;
    for (DSpec d : specs) {
      String what = d.name + " (" + d.kind() + ")";
      check(d.count == 1, what + ": consumed " + d.count + " times");
      check(d.gotPartition == d.partition, what + ": produced to partition " + d.partition + ", consumed from " + d.gotPartition);
      check(d.key().equals(s(d.gotKey)) && d.value().equals(s(d.gotValue)), what + ": key/value " + s(d.gotKey) + " / " + s(d.gotValue));
      List<String[]> user = new ArrayList<>();
      String id = null, fire = null;
      int nId = 0, nFire = 0;
      for (String[] h : d.gotHeaders) {
        if (h[0].equals("__delay.id")) { id = h[1]; nId++; }
        else if (h[0].equals("__delay.fire")) { fire = h[1]; nFire++; }
        else user.add(h);
      }
      List<String[]> want = d.headers();
      boolean same = user.size() == want.size();
      for (int i = 0; same && i < want.size(); i++) same = Arrays.equals(user.get(i), want.get(i));
      check(same, what + ": headers " + d.gotHeaders.stream().map(Arrays::toString).collect(Collectors.joining(",")) + ", produced "
          + want.stream().map(Arrays::toString).collect(Collectors.joining(",")) + " (+ __delay.id/__delay.fire when delayed)");
      if (d.header == null) {
        check(nId == 0 && nFire == 0, what + ": a record without delay headers came back with __delay.id " + id + " / __delay.fire " + fire);
        long lat = d.at - sendEnd;
        check(lat <= IMMEDIATE_MS, what + ": consumed " + lat + " ms after the produce returned (no delay headers: at once, within " + IMMEDIATE_MS + " ms)");
        maxImmediate = Math.max(maxImmediate, lat);
        continue;
      }
      long early = d.due - d.at;
      check(early <= DELAY_EARLY_MS, what + ": consumed " + early + " ms BEFORE its due time (produce started at " + sendStart + ", due " + d.due + ", consumed " + d.at
          + "; tolerance " + DELAY_EARLY_MS + " ms)");
      long late = d.at - d.due;
      check(late <= DELAY_LATE_MS, what + ": consumed " + late + " ms after its due time (tolerance " + DELAY_LATE_MS + " ms)");
      check(nId == 1 && id != null && id.matches("[0-9]+"), what + ": __delay.id header ×" + nId + " = " + id + " (want one, decimal)");
      check(ids.add(id), what + ": __delay.id " + id + " also on another record");
      check(nFire == 1 && "1".equals(fire), what + ": __delay.fire header ×" + nFire + " = " + fire + " (want one, 1)");
      timings.add(d.name + " " + (late >= 0 ? "+" : "") + late);
    }
    String offs = specs.stream().map(d -> d.name + "@" + d.offset).collect(Collectors.joining(" "));
    return "6 delayed records (TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=+2500, DELAY=1; 2 each) consumed once, none early, ms after due: "
        + String.join(", ", timings) + "; with key/value/headers + __delay.id/__delay.fire; 4 without delay headers within " + maxImmediate
        + " ms; produce offsets " + offs;
  }
}
