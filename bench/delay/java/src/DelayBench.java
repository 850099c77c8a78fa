// Driver of bench/delay (see ../README.md): schedules timer messages through rocketmq-client 5.3.3 and, when given a
// consumer group, receives them back and measures how late each one arrived.
//
//   java -cp target/classes:target/dependency/* DelayBench --namesrv 127.0.0.1:9876 --topic T --messages N
//        [--group G] [--body-bytes 128] [--threads 4] [--inflight 2000] [--lead-ms 5000 | --window-start-ms EPOCH]
//        [--window-ms 10000] [--wait-ms 120000] [--stall-ms 30000] [--consume-batch 32] [--seed 1] [--seq-base 0]
//        [--producers 1] [--warmup 0] [--timer true] [--send true] [--run TAG]
//
// Message i (0 <= i < N) carries the 5.x timer property TIMER_DELIVER_MS (Message.setDeliverTimeMs) = due_i, a
// pseudo-random time in [windowStart, windowStart + windowMs) that depends only on (seed, seq-base + i), plus two user
// properties: BENCH_SEQ (seq-base + i) and BENCH_DUE (due_i, the same number, so lateness does not depend on the broker
// keeping TIMER_DELIVER_MS). The window starts lead-ms after the first send, or at window-start-ms.
//
// Sending: `threads` threads take the next index and send it; with inflight > 0 the sends are asynchronous with at
// most `inflight` unacknowledged at a time, with inflight = 0 each thread sends synchronously. Schedule rate =
// messages acknowledged / (last acknowledgement - first send).
//
// Receiving (only with --group): a push consumer of a new group, started and rebalanced onto every queue of the
// topic before the first send, reading from the first offset. For every message: lateness = receive time (wall
// clock at the start of the consume callback) - BENCH_DUE. Fire rate = distinct messages received / (last receive
// - first receive). Duplicates are counted by BENCH_SEQ. The driver stops waiting when every acknowledged message
// arrived, when nothing arrived for stall-ms after the window ended, or wait-ms after the window ended.
//
// --timer false sends the same messages without TIMER_DELIVER_MS (the plain-send reference). --send false only
// receives: it prints READY once the consumer holds every queue and expects N messages tagged --run TAG from another
// sender (bench/delay/node-sender.ts) due in the window given by --window-start-ms.
//
// stdout: one JSON line with every figure; progress on stderr.

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

public final class DelayBench {
  static final String SEQ = "BENCH_SEQ";
  static final String DUE = "BENCH_DUE";
  /** A tag per driver run: messages of other runs (a reused topic) are counted as foreign, not as duplicates. */
  static final String RUN = "BENCH_RUN";
  /** Receive-time buckets for the peak rate: 100 ms each. */
  static final int BUCKET_MS = 100;

  final Map<String, String> opt;
  final String namesrv;
  final String topic;
  final String group;
  final int n;
  final int bodyBytes;
  final int threads;
  final int inflight;
  final long windowMs;
  final long waitMs;
  final long stallMs;
  final long seed;
  final int seqBase;
  /** --timer false: the same messages without TIMER_DELIVER_MS (plain sends, a reference for the send path). */
  final boolean timer;
  /** --send false: consume only (see run()). */
  final boolean send;
  final String tag = Long.toString(ProcessHandle.current().pid());
  final String runTag;

  long windowStart;

  // sending
  final AtomicInteger nextIndex = new AtomicInteger();
  final AtomicInteger acked = new AtomicInteger();
  final AtomicInteger sendFailed = new AtomicInteger();
  final AtomicInteger sentAfterDue = new AtomicInteger();
  final AtomicInteger ackedAfterWindowStart = new AtomicInteger();
  final AtomicLong lastAckMs = new AtomicLong();
  final AtomicReference<String> firstSendError = new AtomicReference<>();
  final AtomicInteger sendRetries = new AtomicInteger();
  final java.util.concurrent.ConcurrentLinkedQueue<Integer> retry = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Sends made per message so far (each message is in flight at most once at a time). */
  byte[] attempts;
  long firstSendMs;

  // receiving
  AtomicIntegerArray lateness;
  final AtomicInteger received = new AtomicInteger();
  final AtomicInteger duplicates = new AtomicInteger();
  final AtomicInteger foreign = new AtomicInteger();
  final AtomicLong firstReceiveMs = new AtomicLong(Long.MAX_VALUE);
  final AtomicLong lastReceiveMs = new AtomicLong(Long.MIN_VALUE);
  AtomicIntegerArray buckets;
  long bucketBase;

  DelayBench(Map<String, String> opt) {
    this.opt = opt;
    namesrv = need("namesrv");
    topic = need("topic");
    group = opt.get("group");
    n = Integer.parseInt(need("messages"));
    bodyBytes = Integer.parseInt(opt.getOrDefault("body-bytes", "128"));
    threads = Integer.parseInt(opt.getOrDefault("threads", "4"));
    inflight = Integer.parseInt(opt.getOrDefault("inflight", "2000"));
    windowMs = Long.parseLong(opt.getOrDefault("window-ms", "10000"));
    waitMs = Long.parseLong(opt.getOrDefault("wait-ms", "120000"));
    stallMs = Long.parseLong(opt.getOrDefault("stall-ms", "30000"));
    seed = Long.parseLong(opt.getOrDefault("seed", "1"));
    seqBase = Integer.parseInt(opt.getOrDefault("seq-base", "0"));
    timer = Boolean.parseBoolean(opt.getOrDefault("timer", "true"));
    send = Boolean.parseBoolean(opt.getOrDefault("send", "true"));
    runTag = opt.getOrDefault("run", tag + "-" + System.currentTimeMillis());
  }

  String need(String key) {
    String v = opt.get(key);
    if (v == null) throw new IllegalArgumentException("--" + key + " is required");
    return v;
  }

  static void progress(String line) {
    System.err.println("[delay-driver] " + line);
    System.err.flush();
  }

  /** SplitMix64 finaliser: a well-spread 64-bit value from (seed, seq). */
  static long mix(long seed, long seq) {
    long z = seed * 0x9E3779B97F4A7C15L + seq * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  long dueOf(int seq) {
    return windowMs <= 0 ? windowStart : windowStart + Math.floorMod(mix(seed, seq), windowMs);
  }

  // ------------------------------------------------------------------ consumer

  DefaultMQPushConsumer startConsumer() throws Exception {
    lateness = new AtomicIntegerArray(n);
    for (int i = 0; i < n; i++) lateness.set(i, Integer.MIN_VALUE);
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
    consumer.setNamesrvAddr(namesrv);
    consumer.setInstanceName("delay-bench-c-" + tag);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setConsumeMessageBatchMaxSize(Integer.parseInt(opt.getOrDefault("consume-batch", "32")));
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      long now = System.currentTimeMillis();
      for (MessageExt m : msgs) record(m, now);
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    // Wait until the rebalance put every queue of the topic on this consumer, so the first fire finds it pulling.
    long deadline = System.currentTimeMillis() + Long.parseLong(opt.getOrDefault("ready-timeout-ms", "60000"));
    int expected = -1;
    for (;;) {
      try {
        if (expected < 0) {
          Set<MessageQueue> mqs = consumer.fetchSubscribeMessageQueues(topic);
          if (mqs != null && !mqs.isEmpty()) expected = mqs.size();
        }
      } catch (Exception e) {
        // route not there yet
      }
      int assigned = consumer.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size();
      if (expected > 0 && assigned >= expected) {
        progress("consumer " + group + " holds all " + expected + " queues of " + topic);
        return consumer;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("consumer not rebalanced onto " + topic + " in time (" + assigned + " of " + expected + " queues)");
      }
      Thread.sleep(100);
    }
  }

  void record(MessageExt m, long now) {
    if (!runTag.equals(m.getUserProperty(RUN))) {
      foreign.incrementAndGet();
      return;
    }
    String s = m.getUserProperty(SEQ);
    String d = m.getUserProperty(DUE);
    int seq;
    long due;
    try {
      seq = Integer.parseInt(s) - seqBase;
      due = Long.parseLong(d);
    } catch (RuntimeException e) {
      foreign.incrementAndGet();
      return;
    }
    if (seq < 0 || seq >= n) {
      foreign.incrementAndGet();
      return;
    }
    long late = Math.max(Integer.MIN_VALUE + 1, Math.min(Integer.MAX_VALUE, now - due));
    if (!lateness.compareAndSet(seq, Integer.MIN_VALUE, (int) late)) {
      duplicates.incrementAndGet();
      return;
    }
    received.incrementAndGet();
    firstReceiveMs.accumulateAndGet(now, Math::min);
    lastReceiveMs.accumulateAndGet(now, Math::max);
    long b = (now - bucketBase) / BUCKET_MS;
    if (b >= 0 && b < buckets.length()) buckets.incrementAndGet((int) b);
  }

  // ------------------------------------------------------------------ producer

  void schedule(DefaultMQProducer[] producers) throws Exception {
    byte[] body = new byte[bodyBytes];
    for (int i = 0; i < body.length; i++) body[i] = (byte) ('a' + i % 26);
    Semaphore permits = inflight > 0 ? new Semaphore(inflight) : null;
    CountDownLatch done = new CountDownLatch(n);
    long sendTimeout = Long.parseLong(opt.getOrDefault("send-timeout-ms", "30000"));
    int maxAttempts = Integer.parseInt(opt.getOrDefault("max-attempts", "20"));
    attempts = new byte[n];
    // A failed send (e.g. the broker's flow control, "broker busy") is sent again, up to maxAttempts times in all:
    // every message is scheduled once, and the rate counts what the broker accepted per second.
    java.util.function.BiConsumer<Integer, String> outcome = (idx, error) -> {
      if (error != null && attempts[idx] < maxAttempts) {
        sendRetries.incrementAndGet();
        firstSendError.compareAndSet(null, error.length() > 300 ? error.substring(0, 300) : error);
        retry.add(idx);
      } else {
        onAck(error);
        done.countDown();
      }
      if (permits != null) permits.release();
    };
    java.util.function.IntFunction<Runnable> workerOf = (t) -> () -> {
      DefaultMQProducer producer = producers[t % producers.length];
      for (;;) {
        Integer again = retry.poll();
        int i;
        if (again != null) {
          i = again;
        } else {
          i = nextIndex.getAndIncrement();
          if (i >= n) {
            nextIndex.set(n);
            if (done.getCount() == 0) return;
            try {
              Thread.sleep(1);
            } catch (InterruptedException e) {
              return;
            }
            continue;
          }
        }
        attempts[i]++;
        final int idx = i;
        int seq = seqBase + i;
        long due = dueOf(seq);
        Message msg = new Message(topic, body);
        msg.putUserProperty(RUN, runTag);
        msg.putUserProperty(SEQ, Integer.toString(seq));
        msg.putUserProperty(DUE, Long.toString(due));
        if (timer) msg.setDeliverTimeMs(due);
        if (timer && again == null && System.currentTimeMillis() >= due) sentAfterDue.incrementAndGet();
        try {
          if (permits == null) {
            SendResult r;
            try {
              r = producer.send(msg, sendTimeout);
            } catch (Exception e) {
              outcome.accept(idx, String.valueOf(e));
              continue;
            }
            outcome.accept(idx, r.getSendStatus() == SendStatus.SEND_OK ? null : "status " + r.getSendStatus());
          } else {
            permits.acquire();
            try {
              producer.send(msg, new SendCallback() {
                @Override
                public void onSuccess(SendResult r) {
                  outcome.accept(idx, r.getSendStatus() == SendStatus.SEND_OK ? null : "status " + r.getSendStatus());
                }

                @Override
                public void onException(Throwable e) {
                  outcome.accept(idx, String.valueOf(e));
                }
              }, sendTimeout);
            } catch (Exception e) {
              outcome.accept(idx, String.valueOf(e));
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    };
    Thread[] pool = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      pool[t] = new Thread(workerOf.apply(t), "delay-bench-send-" + t);
      pool[t].setDaemon(true);
    }
    for (Thread t : pool) t.start();
    long lastLog = System.currentTimeMillis();
    while (!done.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
      long now = System.currentTimeMillis();
      if (now - lastLog >= 5000) {
        progress("scheduled " + acked.get() + " of " + n + (sendRetries.get() > 0 ? ", resent " + sendRetries.get() : "")
            + (sendFailed.get() > 0 ? ", failed " + sendFailed.get() : ""));
        lastLog = now;
      }
    }
  }

  /**
   * Warm-up (--warmup W): W timer messages due 1.5 s from now, tagged with another run id, sent asynchronously
   * and (with a consumer) received back as foreign messages before the measured sends start. Warms the JIT of
   * this JVM and the broker's timer path; none of it is counted.
   */
  void warmup(DefaultMQProducer[] producers, int count, boolean consuming) throws Exception {
    byte[] body = new byte[bodyBytes];
    Semaphore permits = new Semaphore(Math.max(1, inflight));
    AtomicInteger ok = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(count);
    long due = System.currentTimeMillis() + 1500;
    long t0 = System.currentTimeMillis();
    for (int i = 0; i < count; i++) {
      Message msg = new Message(topic, body);
      msg.putUserProperty(RUN, runTag + "-warmup");
      msg.putUserProperty(SEQ, Integer.toString(i));
      msg.putUserProperty(DUE, Long.toString(due));
      if (timer) msg.setDeliverTimeMs(due);
      permits.acquire();
      try {
        producers[i % producers.length].send(msg, new SendCallback() {
          @Override
          public void onSuccess(SendResult r) {
            if (r.getSendStatus() == SendStatus.SEND_OK) ok.incrementAndGet();
            permits.release();
            done.countDown();
          }

          @Override
          public void onException(Throwable e) {
            permits.release();
            done.countDown();
          }
        }, 30_000);
      } catch (Exception e) {
        permits.release();
        done.countDown();
      }
    }
    done.await(120, java.util.concurrent.TimeUnit.SECONDS);
    if (consuming) {
      long deadline = System.currentTimeMillis() + 60_000;
      while (foreign.get() < ok.get() && System.currentTimeMillis() < deadline) Thread.sleep(20);
    }
    warmupMs = System.currentTimeMillis() - t0;
    warmupAcked = ok.get();
    warmupReceived = foreign.getAndSet(0);
    progress("warm-up: " + ok.get() + " of " + count + " scheduled" + (consuming ? ", " + warmupReceived + " received" : "") + " in " + warmupMs + " ms");
  }

  long warmupMs;
  int warmupAcked;
  int warmupReceived;

  void onAck(String error) {
    long now = System.currentTimeMillis();
    if (error == null) {
      acked.incrementAndGet();
      if (timer && now >= windowStart) ackedAfterWindowStart.incrementAndGet();
    } else {
      sendFailed.incrementAndGet();
      firstSendError.compareAndSet(null, error.length() > 300 ? error.substring(0, 300) : error);
    }
    lastAckMs.accumulateAndGet(now, Math::max);
  }

  // ------------------------------------------------------------------ run

  String run() throws Exception {
    long t0 = System.currentTimeMillis();
    DefaultMQPushConsumer consumer = null;
    long readyMs = 0;
    if (group != null) {
      // The buckets are placed once the window is known; allocate for the longest possible span now.
      buckets = new AtomicIntegerArray((int) ((windowMs + waitMs + 60_000) / BUCKET_MS) + 1);
      bucketBase = Long.MAX_VALUE / 2; // nothing counts until the window is known
      consumer = startConsumer();
      readyMs = System.currentTimeMillis() - t0;
    }
    if (!send) {
      // --send false: receive only; another sender (bench/delay/node-sender.ts) schedules the messages once this
      // line is out. The window is fixed up front (--window-start-ms).
      windowStart = Long.parseLong(need("window-start-ms"));
      bucketBase = windowStart;
      System.out.println("READY");
      System.out.flush();
    }
    // --producers K: K producer instances (K client instances, K connections to the broker); thread t sends with
    // producer t % K.
    DefaultMQProducer[] producers = new DefaultMQProducer[send ? Integer.parseInt(opt.getOrDefault("producers", "1")) : 0];
    for (int k = 0; k < producers.length; k++) {
      DefaultMQProducer producer = new DefaultMQProducer("delay_bench_p_" + tag);
      producer.setNamesrvAddr(namesrv);
      producer.setInstanceName("delay-bench-p-" + tag + "-" + k);
      producer.setRetryTimesWhenSendFailed(2);
      producer.start();
      // Route lookup before the clock starts: the first send would otherwise pay for it.
      producer.fetchPublishMessageQueues(topic);
      producers[k] = producer;
    }
    int warm = send ? Integer.parseInt(opt.getOrDefault("warmup", "0")) : 0;
    if (warm > 0) warmup(producers, warm, consumer != null);

    long scheduleMs = 1;
    if (send) {
      firstSendMs = System.currentTimeMillis();
      String ws = opt.get("window-start-ms");
      windowStart = ws != null ? Long.parseLong(ws) : firstSendMs + Long.parseLong(opt.getOrDefault("lead-ms", "5000"));
      bucketBase = windowStart;
      progress("scheduling " + n + " messages due in [" + windowStart + ", " + (windowStart + windowMs) + ") (lead " + (windowStart - firstSendMs) + " ms)");
      schedule(producers);
      scheduleMs = Math.max(1, lastAckMs.get() - firstSendMs);
      progress("scheduled " + acked.get() + " in " + scheduleMs + " ms (" + Math.round(acked.get() * 1000.0 / scheduleMs) + "/s), failed " + sendFailed.get());
    }
    long windowEnd = windowStart + Math.max(windowMs, 0);

    String stop = null;
    if (consumer != null) {
      int want = send ? acked.get() : n;
      long lastCount = -1;
      long lastChange = System.currentTimeMillis();
      long lastLog = 0;
      for (;;) {
        long now = System.currentTimeMillis();
        int got = received.get();
        if (got != lastCount) {
          lastCount = got;
          lastChange = now;
        }
        if (got >= want) {
          stop = "all received";
          break;
        }
        if (now > windowEnd + waitMs) {
          stop = "wait bound reached (" + waitMs + " ms after the window)";
          break;
        }
        if (now > windowEnd && now - lastChange > stallMs) {
          stop = "nothing received for " + stallMs + " ms after the window";
          break;
        }
        if (now - lastLog >= 5000) {
          progress("received " + got + " of " + want + (now < windowStart ? " (window opens in " + (windowStart - now) + " ms)" : ""));
          lastLog = now;
        }
        Thread.sleep(20);
      }
      progress("consumer: " + stop + "; received " + received.get() + ", duplicates " + duplicates.get());
      // A short grace to catch duplicates delivered right after the last first-delivery.
      Thread.sleep(Long.parseLong(opt.getOrDefault("grace-ms", "1000")));
      consumer.shutdown();
    }
    for (DefaultMQProducer producer : producers) producer.shutdown();

    StringBuilder j = new StringBuilder(1024);
    j.append('{');
    kv(j, "topic", topic);
    kv(j, "messages", n);
    kv(j, "bodyBytes", bodyBytes);
    kv(j, "timer", timer ? 1 : 0);
    kv(j, "threads", threads);
    kv(j, "producers", producers.length);
    kv(j, "inflight", inflight);
    kv(j, "send", send ? 1 : 0);
    kv(j, "windowStartMs", windowStart);
    kv(j, "windowMs", windowMs);
    kv(j, "leadMs", windowStart - firstSendMs);
    kv(j, "firstSendMs", firstSendMs);
    kv(j, "lastAckMs", lastAckMs.get());
    kv(j, "scheduled", acked.get());
    kv(j, "sendFailed", sendFailed.get());
    kv(j, "sendRetries", sendRetries.get());
    if (firstSendError.get() != null) kv(j, "firstSendError", firstSendError.get());
    kv(j, "scheduleSeconds", scheduleMs / 1000.0);
    kv(j, "scheduleRate", acked.get() * 1000.0 / scheduleMs);
    kv(j, "sentAfterDue", sentAfterDue.get());
    kv(j, "ackedAfterWindowStart", ackedAfterWindowStart.get());
    if (warm > 0) {
      kv(j, "warmupMessages", warm);
      kv(j, "warmupScheduled", warmupAcked);
      kv(j, "warmupReceived", warmupReceived);
      kv(j, "warmupMs", warmupMs);
    }
    kv(j, "jvmSeconds", ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0);
    if (consumer != null) {
      int got = received.get();
      kv(j, "group", group);
      kv(j, "consumerReadyMs", readyMs);
      kv(j, "stop", stop);
      kv(j, "received", got);
      kv(j, "duplicates", duplicates.get());
      kv(j, "missing", (send ? acked.get() : n) - got);
      kv(j, "foreign", foreign.get());
      if (got > 0) {
        long first = firstReceiveMs.get();
        long last = lastReceiveMs.get();
        long span = Math.max(1, last - first);
        kv(j, "firstReceiveMs", first);
        kv(j, "lastReceiveMs", last);
        kv(j, "fireSeconds", span / 1000.0);
        kv(j, "fireRate", got * 1000.0 / span);
        kv(j, "lastReceiveAfterWindowEndMs", last - windowEnd);
        // Peak rate over any 1 s (10 consecutive 100 ms buckets).
        int per = 1000 / BUCKET_MS;
        long sum = 0;
        long peak = 0;
        for (int i = 0; i < buckets.length(); i++) {
          sum += buckets.get(i);
          if (i >= per) sum -= buckets.get(i - per);
          peak = Math.max(peak, sum);
        }
        kv(j, "peakFireRate1s", peak);
        int[] v = new int[got];
        int k = 0;
        long early = 0;
        double total = 0;
        for (int i = 0; i < n && k < got; i++) {
          int x = lateness.get(i);
          if (x == Integer.MIN_VALUE) continue;
          v[k++] = x;
          total += x;
          if (x < -1000) early++;
        }
        v = Arrays.copyOf(v, k);
        Arrays.sort(v);
        long[] abs = new long[k];
        for (int i = 0; i < k; i++) abs[i] = Math.abs((long) v[i]);
        Arrays.sort(abs);
        j.append("\"latenessMs\":{");
        kv(j, "min", v[0]);
        kv(j, "p50", rank(v, 0.50));
        kv(j, "p90", rank(v, 0.90));
        kv(j, "p99", rank(v, 0.99));
        kv(j, "p999", rank(v, 0.999));
        kv(j, "max", v[k - 1]);
        kv(j, "mean", total / k);
        kv(j, "absP50", abs[Math.max(0, (int) Math.ceil(0.50 * k) - 1)]);
        kv(j, "absP99", abs[Math.max(0, (int) Math.ceil(0.99 * k) - 1)]);
        kv(j, "earlyOver1s", early);
        j.setLength(j.length() - 1);
        j.append("},");
      }
    }
    j.setLength(j.length() - 1);
    j.append('}');
    return j.toString();
  }

  /** Nearest-rank percentile of a sorted array. */
  static int rank(int[] sorted, double q) {
    return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
  }

  static void kv(StringBuilder j, String k, Object v) {
    j.append('"').append(k).append("\":");
    if (v instanceof String s) {
      j.append('"');
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') j.append('\\').append(c);
        else if (c < 0x20) j.append(String.format("\\u%04x", (int) c));
        else j.append(c);
      }
      j.append('"');
    } else if (v instanceof Double d) {
      j.append(d.isNaN() || d.isInfinite() ? "null" : String.format(java.util.Locale.ROOT, "%.3f", d));
    } else {
      j.append(v);
    }
    j.append(',');
  }

  public static void main(String[] args) {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        System.err.println("usage: DelayBench --namesrv HOST:PORT --topic T --messages N [--group G] [...] (see the header of DelayBench.java)");
        System.exit(2);
      }
      opt.put(args[i].substring(2), args[++i]);
    }
    int code = 0;
    try {
      System.out.println(new DelayBench(opt).run());
    } catch (Throwable e) {
      String msg = String.valueOf(e);
      System.out.println("{\"error\":\"" + msg.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"}");
      e.printStackTrace();
      code = 1;
    }
    System.out.flush();
    // Client threads (netty, rebalance, timers) may linger after shutdown(): leave at once.
    Runtime.getRuntime().halt(code);
  }
}
