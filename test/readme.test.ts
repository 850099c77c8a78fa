// README.md documents every config key; this keeps the table and the quick start honest.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configKeys, envName, flagName, keySchema } from '../src/config/index.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README.md', () => {
  it('has a table row for every config key with its flag, env var, default and description', () => {
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const key of configKeys) {
      const row = rows.find((r) => r.startsWith(`| \`${key}\` |`));
      assert.ok(row, `no README row for ${key}`);
      const cells = row.split(' | ');
      const schema = keySchema(key);
      assert.equal(cells[1], `\`${flagName(key)}\``, `${key}: flag`);
      assert.equal(cells[2], `\`${envName(key)}\``, `${key}: env var`);
      assert.equal(cells[3], schema.default === undefined ? '(unset)' : `\`${String(schema.default)}\``, `${key}: default`);
      assert.ok(row.includes(schema.description!), `${key}: description differs from the schema`);
    }
  });

  it('has the two-command quick start', () => {
    assert.match(readme, /## Quick start\n\n```sh\nnpm install && npm start\nnpm test\n```/);
  });

  it('keeps the storage benchmark section', () => {
    assert.match(readme, /^## Storage benchmark$/m);
  });
});
