// An in-process broker with its Kafka listener on 127.0.0.1:0 over a fresh
// temporary directory, for tests that drive it with a real client.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker, type BrokerConfig } from '../src/broker/broker.ts';
import { startKafkaListener, type KafkaListener } from '../src/kafka/server.ts';
import { createLogger } from '../src/logger.ts';
import { LogManager } from '../src/storage/log-manager.ts';

export interface KafkaTestBroker {
  broker: Broker;
  listener: KafkaListener;
  /** `127.0.0.1:<port>` for a client's bootstrap list. */
  bootstrap: string;
  close(): Promise<void>;
}

export async function startKafkaTestBroker(prefix: string, config: Partial<BrokerConfig> = {}): Promise<KafkaTestBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0, ...config });
  const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', nodeId: 1, frameBytesMax: 100 << 20, logger: createLogger({ level: 'silent' }) });
  return {
    broker,
    listener,
    bootstrap: `127.0.0.1:${listener.address.port}`,
    async close() {
      await listener.close();
      broker.close();
      await logManager.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
