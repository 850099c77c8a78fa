// The committed generated files must be exactly what the generator produces from
// the specs in ../shared/protocol/kafka-messages (skipped when they are absent).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SPECS_DIR, HEADER, writeGenerated } from '../../../../scripts/gen-kafka-codecs.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const specsPresent = fs.existsSync(DEFAULT_SPECS_DIR);

function generatedFilesIn(dir: string): string[] {
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && fs.readFileSync(path.join(dir, f), 'utf8').startsWith(HEADER))
    .sort();
}

test('committed codecs match a fresh generation from the specs', { skip: specsPresent ? false : `no specs at ${DEFAULT_SPECS_DIR}` }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-kafka-gen-'));
  try {
    writeGenerated(DEFAULT_SPECS_DIR, tmp);
    const fresh = generatedFilesIn(tmp);
    const committed = generatedFilesIn(here);
    assert.deepEqual(committed, fresh, 'generated file set differs: run `npm run gen:kafka`');
    const stale: string[] = [];
    for (const f of fresh) {
      if (fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(here, f), 'utf8')) stale.push(f);
    }
    assert.deepEqual(stale, [], `stale generated files (run \`npm run gen:kafka\`): ${stale.join(', ')}`);
    assert.ok(fresh.length > 190);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('every generated file carries the do-not-edit header', () => {
  const all = fs.readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'test-samples.ts');
  for (const f of all) assert.ok(fs.readFileSync(path.join(here, f), 'utf8').startsWith(`${HEADER}\n`), f);
});
