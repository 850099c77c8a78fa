// Subscriptions and the broker-side message filter (rocketmq-remoting.md §12):
// TAG expressions (`*`, or tags joined by `||`) and SQL92 over properties.
// Tags are compared as strings, which is what clients re-check anyway (a Java
// broker compares String.hashCode values and lets clients drop collisions).

import type { DecodedRecord } from '../storage/records.ts';
import { recordProperty } from '../broker/rocketmq-mapping.ts';
import { parseTagExpression, tagsCode } from '../protocol/rocketmq/index.ts';
import { compileSql92, Sql92ParseError } from './filter/sql92.ts';

export interface MessageFilter {
  readonly expressionType: 'TAG' | 'SQL92';
  readonly expression: string;
  /** True for `*` (and an empty TAG expression): `matches` never looks at a record. */
  readonly matchesAll: boolean;
  matches(record: DecodedRecord): boolean;
}

export class SubscriptionParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionParseError';
  }
}

const MATCH_ALL: MessageFilter = { expressionType: 'TAG', expression: '*', matchesAll: true, matches: () => true };

/** Compiles a subscription expression; throws SubscriptionParseError with the reason. */
export function compileFilter(expressionType: string | undefined, expression: string | undefined): MessageFilter {
  const type = (expressionType ?? 'TAG').toUpperCase();
  if (type === 'TAG') {
    const tags = parseTagExpression(expression);
    if (tags === null) return MATCH_ALL;
    return {
      expressionType: 'TAG',
      expression: expression ?? '',
      matchesAll: false,
      matches: (record) => {
        const tag = recordProperty(record, 'TAGS');
        return tag !== undefined && tags.has(tag);
      },
    };
  }
  if (type === 'SQL92') {
    if (expression === undefined || expression.trim() === '') throw new SubscriptionParseError('SQL92 subscription without an expression');
    try {
      const sql = compileSql92(expression);
      return { expressionType: 'SQL92', expression, matchesAll: false, matches: (record) => sql.matches((name) => recordProperty(record, name)) };
    } catch (err) {
      if (err instanceof Sql92ParseError) throw new SubscriptionParseError(`SQL92 expression ${JSON.stringify(expression)} does not parse: ${err.message}`);
      throw err;
    }
  }
  throw new SubscriptionParseError(`expression type ${JSON.stringify(expressionType)} is not supported (TAG or SQL92)`);
}

/** Compiled filters by (type, expression): pulls that carry their expression compile it once. */
export class FilterCache {
  readonly #cache = new Map<string, MessageFilter>();
  readonly #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  get(expressionType: string | undefined, expression: string | undefined): MessageFilter {
    const key = `${expressionType ?? 'TAG'}\u0000${expression ?? ''}`;
    let filter = this.#cache.get(key);
    if (filter === undefined) {
      filter = compileFilter(expressionType, expression);
      if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, filter);
    }
    return filter;
  }
}

export { tagsCode };
