// RocketMQ delay levels (messageDelayLevel): level N of a message means the
// N-th duration of the table; levels above the table's length are clamped to
// its last entry, as the Java broker does (ScheduleMessageService).

export const DEFAULT_DELAY_LEVELS = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';
/** Levels a table may hold: RocketMQ's own is 18; the headroom is for operators who add more. */
export const DELAY_LEVELS_MAX = 100;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const LEVEL = /^(\d+)(ms|s|m|h|d)$/;

/** Parses `1s 5s 1m 2h ...` into milliseconds; throws naming the bad entry. */
export function parseDelayLevels(text: string): number[] {
  const entries = text.trim().split(/\s+/).filter((e) => e.length > 0);
  if (entries.length === 0) throw new Error('the delay level table is empty');
  if (entries.length > DELAY_LEVELS_MAX) throw new Error(`the delay level table has ${entries.length} levels; at most ${DELAY_LEVELS_MAX}`);
  return entries.map((entry, i) => {
    const m = LEVEL.exec(entry);
    if (m === null) throw new Error(`delay level ${i + 1} "${entry}" is not a duration like 500ms, 1s, 5m, 2h or 1d`);
    const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
    if (ms <= 0 || !Number.isSafeInteger(ms)) throw new Error(`delay level ${i + 1} "${entry}" must be a positive duration`);
    return ms;
  });
}

/** The delay of `level` (1-based, clamped to the table); 0 for level ≤ 0 (no delay). */
export function delayOfLevel(levelsMs: readonly number[], level: number): number {
  if (!(level > 0)) return 0;
  return levelsMs[Math.min(Math.floor(level), levelsMs.length) - 1]!;
}
