import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../storage/log-manager.ts';
import { InternalLog } from './internal-log.ts';

test('internal logs are never expired by retention, also after a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-internal-'));
  let now = 1_000_000;
  const nowMs = () => now;
  const weekMs = 7 * 24 * 3600 * 1000;
  try {
    for (let round = 0; round < 2; round++) {
      const lm = await LogManager.open({ dir, nowMs, config: { retentionMs: 1000, segmentAgeMsMax: 10 } });
      const log = new InternalLog(lm, '__diglot_metadata', nowMs);
      await log.append([{ key: `k${round}`, value: { round } }]);
      now += weekMs;
      await log.append([{ key: `later${round}`, value: { round } }]); // rolls: the first segment is sealed and old
      now += weekMs;
      assert.equal(lm.applyRetention(), 0);
      const keys: string[] = [];
      log.replay((r) => keys.push(r.key));
      assert.deepEqual(keys, round === 0 ? ['k0', 'later0'] : ['k0', 'later0', 'k1', 'later1']);
      await lm.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
