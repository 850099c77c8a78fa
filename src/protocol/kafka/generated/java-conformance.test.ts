// Cross-check with Apache Kafka itself: every sample encoding (and every
// all-defaults encoding) of every message at every version is read by the
// generated Java message classes of kafka-clients 4.3.1 and written back; the
// bytes must be identical. Skipped without `java` or the kafka-clients jar
// (KAFKA_CLIENTS_JAR, else the local Maven repository).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writer } from '../codec/index.ts';
import { loadMessages, SampleBuilder, versionsOf } from './test-samples.ts';

const jar = process.env.KAFKA_CLIENTS_JAR ??
  path.join(os.homedir(), '.m2/repository/org/apache/kafka/kafka-clients/4.3.1/kafka-clients-4.3.1.jar');
const javaOk = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
const skip = !javaOk ? 'java not found' : !fs.existsSync(jar) ? `no kafka-clients jar at ${jar}` : false;

const CHECK_JAVA = `
import java.nio.ByteBuffer;
import java.nio.file.*;
import java.util.*;
import org.apache.kafka.common.protocol.*;

public class Check {
  public static void main(String[] a) throws Exception {
    int ok = 0, bad = 0;
    for (String line : Files.readAllLines(Path.of(a[0]))) {
      String[] p = line.split(" ", -1);
      String name = p[0];
      short v = Short.parseShort(p[1]);
      byte[] in = HexFormat.of().parseHex(p[2]);
      try {
        Class<?> c;
        try { c = Class.forName("org.apache.kafka.common.message." + name + "Data"); }
        catch (ClassNotFoundException e) { c = Class.forName("org.apache.kafka.common.message." + name); }
        Message m = (Message) c.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
          .newInstance(new ByteBufferAccessor(ByteBuffer.wrap(in)), v);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer out = ByteBuffer.allocate(m.size(cache, v));
        m.write(new ByteBufferAccessor(out), cache, v);
        if (Arrays.equals(out.array(), in)) ok++;
        else { bad++; System.out.println("DIFF " + name + " v" + v + " ours=" + p[2] + " java=" + HexFormat.of().formatHex(out.array())); }
      } catch (Throwable t) {
        bad++;
        System.out.println("ERR " + name + " v" + v + " " + (t.getCause() != null ? t.getCause() : t));
      }
    }
    System.out.println("RESULT " + ok + " " + bad);
  }
}
`;

test('kafka-clients 4.3.1 reads and re-writes our encodings byte for byte', { skip, timeout: 120_000 }, async () => {
  const messages = await loadMessages();
  const lines: string[] = [];
  for (const m of messages) {
    for (const v of versionsOf(m.spec)) {
      for (const sample of [new SampleBuilder(m, v * 1000 + 1, 40).build(v), new SampleBuilder(m, v * 1000 + 2, 40).build(v), {}]) {
        const w = new Writer();
        m.encode(w, sample, v);
        lines.push(`${m.spec.name} ${v} ${w.toBuffer().toString('hex')}`);
      }
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-kafka-java-'));
  try {
    fs.writeFileSync(path.join(dir, 'Check.java'), CHECK_JAVA);
    fs.writeFileSync(path.join(dir, 'samples.txt'), lines.join('\n') + '\n');
    const res = spawnSync('java', ['-cp', jar, path.join(dir, 'Check.java'), path.join(dir, 'samples.txt')], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    const out = `${res.stdout}${res.stderr}`;
    const m = /RESULT (\d+) (\d+)/.exec(out);
    assert.ok(m, `java did not finish: ${out.slice(0, 2000)}`);
    assert.equal(Number(m[2]), 0, out.split('\n').filter((l) => l.startsWith('DIFF') || l.startsWith('ERR')).slice(0, 10).join('\n'));
    assert.equal(Number(m[1]), lines.length);
    console.log(`# ${lines.length} encodings identical after a Java read/write`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
