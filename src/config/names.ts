// How a config key is spelled in each source, and "did you mean" hints.

import { configKeys, type ConfigKey } from './schema.ts';

export const ENV_PREFIX = 'DIGLOT_';
/** Environment variable naming a config file (like --config). Not a config key. */
export const ENV_CONFIG_FILE = 'DIGLOT_CONFIG';

function words(key: string): string[] {
  return key.split(/(?=[A-Z])/).map((w) => w.toLowerCase());
}

/** dataDir → --data-dir */
export function flagName(key: ConfigKey): string {
  return `--${words(key).join('-')}`;
}

/** dataDir → DIGLOT_DATA_DIR */
export function envName(key: ConfigKey): string {
  return ENV_PREFIX + words(key).join('_').toUpperCase();
}

const byFlag = new Map<string, ConfigKey>(configKeys.map((k) => [flagName(k), k]));
const byEnv = new Map<string, ConfigKey>(configKeys.map((k) => [envName(k), k]));

export function keyForFlag(flag: string): ConfigKey | undefined {
  return byFlag.get(flag);
}

export function keyForEnv(name: string): ConfigKey | undefined {
  return byEnv.get(name);
}

/** Letters and digits only, lower case: `data_dir`, `data-dir`, `DataDir` all become `datadir`. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The key an unknown name most likely meant, or undefined. `name` is compared
 * without its source's decoration (prefix, dashes, underscores, case).
 */
export function closestKey(name: string): ConfigKey | undefined {
  const n = normalize(name);
  if (n.length === 0) return undefined;
  // `dataDirectory` → dataDir, `kafka` → kafkaPort: the longest key that is a prefix of
  // the name, or of which the name is a prefix.
  let prefixMatch: ConfigKey | undefined;
  for (const key of configKeys) {
    const k = normalize(key);
    const related = n.length >= 4 && (n.startsWith(k) || k.startsWith(n));
    if (related && (prefixMatch === undefined || k.length > normalize(prefixMatch).length)) prefixMatch = key;
  }
  if (prefixMatch !== undefined) return prefixMatch;
  let best: ConfigKey | undefined;
  let bestDistance = Infinity;
  for (const key of configKeys) {
    const distance = editDistance(n, normalize(key));
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(n.length / 3));
  return bestDistance <= allowed ? best : undefined;
}
