// Node/V8 flags Diglot runs with: `npm start`, the shebang of bin/diglot.mjs,
// the benchmarks, the conformance targets and the process tests all use these
// (test/node-flags.test.ts keeps the first two in step with this list).
//
// --max-semi-space-size=16: V8 grows the young generation up to 64 MiB per
// semi-space (128 MiB new space) under sustained load and keeps it; capped at
// 16 MiB the broker held 1,000,000 pending delay messages in 325 MiB RSS
// instead of 380 MiB (bench/delay rss phase), with the same Kafka produce rate.
export const NODE_FLAGS = ['--max-semi-space-size=16'];
