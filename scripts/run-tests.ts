// Runs every *.test.ts under src/ and test/ with node:test, prints the spec
// report and closes with the plain line `N passed, N failed` that CI reads.
// Arguments narrow the run to files whose path contains one of them.
import { globSync } from 'node:fs';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import process from 'node:process';

const filters = process.argv.slice(2);
const files = globSync(['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'])
  .filter((file) => !file.includes('node_modules'))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
let skipped = 0;

const stream = run({ files, concurrency: 2, timeout: 15 * 60 * 1000 });
stream.on('test:pass', (event) => {
  if (event.details.type === 'suite') return;
  if (event.skip || event.todo) skipped++;
  else passed++;
});
stream.on('test:fail', (event) => {
  if (event.details.type === 'suite' && (event.details.error as { failureType?: string } | undefined)?.failureType === 'subtestsFailed') return;
  failed++;
});
stream.compose(spec).pipe(process.stdout);
stream.on('end', () => {
  // Let the spec reporter drain before the closing line.
  setImmediate(() => {
    const tail = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
    process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
  });
});
