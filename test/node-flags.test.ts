// The Node/V8 flags of bin/node-flags.mjs are the ones `npm start` and the
// `diglot` command (shebang) run with; benchmarks and process tests import them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { NODE_FLAGS } from '../bin/node-flags.mjs';

const root = new URL('../', import.meta.url);

test('npm start and the diglot shebang pass every flag of bin/node-flags.mjs', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${NODE_FLAGS.join(' ')} bin/diglot.mjs start`);
  const shebang = readFileSync(new URL('bin/diglot.mjs', root), 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
});

test('this Node accepts the flags and they cap the young generation', () => {
  const probe = "const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); process.stdout.write(String(s.space_size))";
  const run = spawnSync(process.execPath, [...NODE_FLAGS, '-e', probe], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  // Fill the young generation with objects that survive a scavenge or two, so
  // that V8 grows it as far as it may. (With 2e5 survivors the uncapped run
  // stayed at 32 MiB in 1 of 3 runs and failed CI; with 1e6 it reached 64 or
  // 128 MiB in 30 of 30, 20 of them on a contended machine.)
  const grow = `const keep = []; for (let i = 0; i < 6e6; i++) { keep.push({ i }); if (keep.length > 1e6) keep.length = 0; } ${probe}`;
  const capped = spawnSync(process.execPath, [...NODE_FLAGS, '-e', grow], { encoding: 'utf8' });
  const uncapped = spawnSync(process.execPath, ['-e', grow], { encoding: 'utf8' });
  assert.equal(capped.status, 0, capped.stderr);
  assert.ok(Number(capped.stdout) <= 32 * 2 ** 20, `new space ${capped.stdout} bytes with ${NODE_FLAGS.join(' ')}`);
  assert.ok(Number(uncapped.stdout) > Number(capped.stdout), `new space without the flags ${uncapped.stdout} vs with ${capped.stdout}`);
});
