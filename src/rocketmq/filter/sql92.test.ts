import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compileSql92,
  parseJavaDouble,
  parseJavaInt,
  parseJavaLong,
  Sql92ParseError,
  SQL92_MAX_LENGTH,
  SQL92_MAX_NESTING,
} from './sql92.ts';

type Props = Readonly<Record<string, string>>;

function getter(props: Props): (name: string) => string | undefined {
  return (name) => (Object.hasOwn(props, name) ? props[name] : undefined);
}

function matches(expression: string, props: Props = {}): boolean {
  return compileSql92(expression).matches(getter(props));
}

// What an expression evaluates to, seen only through matches(): true, false,
// null (unknown), or 'abort' where RocketMQ throws while evaluating (the
// message then never matches, whatever wraps the failing part).
type Outcome = true | false | null | 'abort';
function outcome(expression: string, props: Props = {}): Outcome {
  const get = getter(props);
  const isTrue = compileSql92(expression).matches(get);
  const isFalse = compileSql92(`NOT (${expression})`).matches(get);
  const isNull = compileSql92(`(${expression}) IS NULL`).matches(get);
  assert.ok(Number(isTrue) + Number(isFalse) + Number(isNull) <= 1, `${expression} has two outcomes`);
  return isTrue ? true : isFalse ? false : isNull ? null : 'abort';
}

function parseError(expression: string): Sql92ParseError {
  try {
    compileSql92(expression);
  } catch (e) {
    assert.ok(e instanceof Sql92ParseError, `${expression}: ${String(e)}`);
    return e;
  }
  assert.fail(`expected a parse error for ${JSON.stringify(expression)}`);
}

describe('sql92 parse (RocketMQ ParserTest cases)', () => {
  const valid = [
    'a=3 and b<>4 And c>5 AND d<=4',
    'a=3  and    b<>4 And c>5 AND d<=4',
    'a=3 or b<>4 Or c>5 OR d<=4',
    "a in ('3', '4', '5')",
    "(a not in ('6', '4', '5')) or (b in ('3', '4', '5'))",
    '(a between 2 and 10) AND (b not between 6 and 9)',
    'a is null',
    'a is not null',
    'a <= now',
    "a=3 and b contains 'xxx' and c not contains 'xxx'",
    "a startswith 'x' and b not startswith 'y' and c endswith 'z' and d not endswith 'w'",
    'TRUE', 'false', 'NULL', 'a', 'NOT a', '+a = +1', 'a = -1', 'a = - - 1', 'a > -2.5e3',
    "a = 'it''s'", 'a = 5L', 'a = .5', 'a = 5.', 'a = 5E2', 'a = 5e-2', 'a=b', '$x_1 = 1', '_ = 1',
    'a = 1 /* comment */ AND b = 2', 'a = 1 -- comment\nAND b = 2', 'a = 1 -- comment at the end',
    'a\t=\r\n1\f', '(((a = 1)))', 'a between 5 and 5', 'a between -10 and 5', 'a not between 10 and 0',
    'a = TRUE', '1 = TRUE', 'TRUE = FALSE', '(a = 1) = (b = 2)', 'a IS NULL IS NOT NULL', 'NOT NOT a = 1',
    "(a) in ('x')", "'abc' contains 'b'",
  ];
  for (const expr of valid) {
    it(`accepts ${JSON.stringify(expr)}`, () => {
      const f = compileSql92(expr);
      assert.equal(f.expression, expr);
    });
  }

  it('keywords are case-insensitive, identifiers are not', () => {
    assert.equal(matches('A = 1 aNd B iS nOt NuLl', { A: '1', B: 'x' }), true);
    assert.equal(matches('a = 1', { A: '1' }), false);
  });
});

describe('sql92 parse errors', () => {
  const cases: [string, number, RegExp][] = [
    ['a and between 2 and 10', 6, /expected an expression/],
    ["a = 'unterminated", 4, /unterminated string literal/],
    ["a = 'x''", 7, /unterminated string literal/], // 'x' then an unterminated '
    ["a = 'x'' OR b = 'y'", 18, /unterminated string literal/], // 'x'' OR b = ' then y then '
    ['a = ', 4, /expected an expression at 4$/],
    ['', 0, /expected an expression at 0$/],
    ['a = 1 AND', 9, /expected an expression/],
    ['(a = 1', 6, /^expected '\)' at 6$/],
    ['((a = 1)', 8, /expected '\)'/],
    ['a = 1)', 5, /expected end of expression but found '\)'/],
    ['a = 1 b = 2', 6, /expected end of expression/],
    ['a = 1 -- comment\n garbage', 18, /expected end of expression/],
    ['a # 1', 2, /unexpected character '#'/],
    ['a != 1', 2, /unexpected character '!'/],
    ['a = 1 / 2', 6, /unexpected character '\/'/],
    ['a = 1 /* open', 6, /unterminated comment/],
    ['a = \u00a0 1', 4, /unexpected character U\+00A0/],
    ['a.b = 1', 1, /unexpected character '\.'/],
    ['a is 5', 5, /'NULL' or 'NOT NULL' after 'IS'/],
    ['a not like 5', 6, /after 'NOT'/],
    ['a contains x', 11, /expected string literal/],
    ['a contains 123', 11, /expected string literal/],
    ["'axb' contains ", 15, /expected string literal/],
    ["a in ()", 6, /expected string literal/],
    ['a in (1, 2)', 6, /expected string literal/],
    ["a in ('x' 'y')", 10, /expected '\)'/],
    ["a in 'x'", 5, /expected '\('/],
    ['a between 1 or 2', 12, /expected 'AND'/],
    [' a between 10 and 0', 3, /lower bound is greater/],
    ['a between 2.5 and 2', 2, /lower bound is greater/],
    ['a between NULL and 2', 2, /cannot be NULL/],
    ["a between 'a' and 'b'", 10, /must be numeric/],
    ['a > 100000000000000000000000', 4, /out of range/],
    ['a > 9223372036854775808', 4, /out of range/],
    ['a > 1e400', 4, /greater than Double.MAX_VALUE/],
    ['a > 0.0', 4, /less than Double.MIN_VALUE/],
    ['a > 1e-400', 4, /less than Double.MIN_VALUE/],
    ['a = NULL', 4, /NULL cannot be compared/],
    ['NULL <> a', 0, /NULL cannot be compared/],
    ["a > 'x'", 4, /must be numeric/],
    ['a > TRUE', 4, /must be numeric/],
    ['NOT a > 1', 0, /must be numeric/], // NOT binds tighter than comparisons
    ['a > 1 > 2', 2, /must be numeric/],
    ['TRUE = 1', 5, /cannot be compared with a non-boolean literal/],
    ["1 in ('1')", 0, /IN needs a property/],
    ["(a = 1) in ('1')", 3, /IN needs a property/],
    ['5', 0, /expected a boolean expression/],
    ["'x'", 0, /expected a boolean expression/],
    ['NOT 5', 4, /expected a boolean expression/],
    ['a = 1 AND 5', 10, /expected a boolean expression/],
    ['-a', 0, /expected a boolean expression/],
    ['a = 007', 5, /expected end of expression/],
    ['a = 1 + 2', 6, /expected end of expression/],
  ];
  for (const [expr, position, message] of cases) {
    it(`rejects ${JSON.stringify(expr)} at ${position}`, () => {
      const e = parseError(expr);
      assert.equal(e.position, position, e.message);
      assert.match(e.message, message);
      assert.ok(e.message.endsWith(` at ${position}`), e.message);
      assert.equal(e.name, 'Sql92ParseError');
    });
  }

  it(`limits the length to ${SQL92_MAX_LENGTH} characters`, () => {
    const ok = 'a = 1' + ' '.repeat(SQL92_MAX_LENGTH - 5);
    assert.equal(matches(ok, { a: '1' }), true);
    const e = parseError(ok + ' ');
    assert.equal(e.position, SQL92_MAX_LENGTH);
    assert.match(e.message, /longer than 4096/);
  });

  it(`limits nesting to ${SQL92_MAX_NESTING} levels`, () => {
    const nest = (n: number) => '('.repeat(n) + 'a = 1' + ')'.repeat(n);
    assert.equal(matches(nest(SQL92_MAX_NESTING - 1), { a: '1' }), true);
    const e = parseError(nest(2000));
    assert.match(e.message, /nested too deeply/);
    assert.equal(e.position, SQL92_MAX_NESTING);
    assert.match(parseError('NOT '.repeat(1000) + 'a').message, /nested too deeply/);
    assert.match(parseError('a = ' + '-'.repeat(2000) + '1').message, /nested too deeply/);
    assert.match(parseError('a' + ' = a'.repeat(1000)).message, /nested too deeply/);
  });

  it('long flat AND / OR chains are fine', () => {
    const and = Array.from({ length: 500 }, () => 'a=1').join(' AND ');
    const or = Array.from({ length: 400 }, (_, i) => `a=${i}`).join(' OR ');
    assert.ok(and.length <= SQL92_MAX_LENGTH && and.length > 3900 && or.length <= SQL92_MAX_LENGTH);
    assert.equal(matches(and, { a: '1' }), true);
    assert.equal(matches(and, { a: '2' }), false);
    assert.equal(matches(or, { a: '250' }), true);
    assert.equal(matches(or, { a: '400' }), false);
  });
});

describe('sql92 evaluation (RocketMQ ExpressionTest cases)', () => {
  const andExpr = 'a=3 and b<>4 And c>5 AND d<=4';
  const orExpr = 'a=3 or b<>4 Or c>5 OR d<=4';
  const table: [string, Props, boolean][] = [
    [andExpr, { a: '3', b: '5', c: '6', d: '1' }, true],
    [andExpr, { a: '4', b: '5', c: '6', d: '1' }, false],
    [orExpr, { a: '3' }, true],
    [orExpr, { a: '4', b: '5' }, true],
    [orExpr, { a: '4', b: '4', c: '6' }, true],
    [orExpr, { a: '4', b: '4', c: '3', d: '2' }, true],
    [orExpr, { a: '4', b: '4', c: '3', d: '10' }, false],
    ["a in ('3', '4', '5')", { a: '3' }, true],
    ["a in ('3', '4', '5')", { a: '5' }, true],
    ["a in ('3', '4', '5')", { a: '8' }, false],
    ["a in ('3', '4', '5')", {}, false],
    ["a not in ('3', '4', '5')", { a: '8' }, true],
    ["a not in ('3', '4', '5')", { a: '4' }, false],
    ["a not in ('3', '4', '5')", {}, false],
    ['a between 2 and 10', { a: '2' }, true],
    ['a between 2 and 10', { a: '10' }, true],
    ['a between 2 and 10', { a: '3' }, true],
    ['a between 2 and 10', { a: '1' }, false],
    ['a between 2 and 10', { a: '11' }, false],
    ['a not between 2 and 10', { a: '1' }, true],
    ['a not between 2 and 10', { a: '11' }, true],
    ['a not between 2 and 10', { a: '2' }, false],
    ['a not between 2 and 10', { a: '10' }, false],
    ['a is null', { abc: '2' }, true],
    ['a is null', { a: '2' }, false],
    ['a is not null', { a: '2' }, true],
    ['a is not null', { abc: '2' }, false],
    ["a is not null and a='hello'", { a: 'hello' }, true],
    ["a is not null and a='hello'", {}, false],
    ['a=TRUE OR b=FALSE', { a: 'true', b: 'false' }, true],
    ['a=TRUE OR b=FALSE', { a: 'false', b: 'true' }, false],
    ['a=TRUE', { a: 'TrUe' }, true],
    ["a is null OR a='hello'", {}, true],
    ["a is null OR a='hello'", { a: 'hello' }, true],
    ["a is null OR a='hello'", { a: 'abc' }, false],
    ["TAGS is not null and TAGS='''''tag'''''", { TAGS: "''tag''" }, true],
    ['a > 3.1E10', { a: '3.1415E10' }, true],
    ['a > 3.14', { a: '3.1415' }, true],
    ['a > b', { a: '10', b: '20' }, false],
    ['a > b', { a: '20', b: '10' }, true],
    ['a=b', { a: '3.14', b: '3.14' }, true],
    ['a<>b', { a: '3.14', b: '3.14' }, false],
    ['a<>b', { a: '3.14', b: '3.141' }, true],
    ["value contains 'x'", { value: 'axb' }, true],
    ["value startswith 'ax'", { value: 'axb' }, true],
    ["value endswith 'xb'", { value: 'axb' }, true],
    ["value not contains 'x'", { value: 'axb' }, false],
    ["value not startswith 'ax'", { value: 'axb' }, false],
    ["value not endswith 'xb'", { value: 'axb' }, false],
    ["value contains 'x'", { value: 'abb' }, false],
    ["value not contains 'x'", { value: 'abb' }, true],
    ["value not startswith 'x'", { value: 'abb' }, true],
    ["value not endswith 'x'", { value: 'abb' }, true],
    ["value contains ''", { value: 'axb' }, false],
    ["value not contains ''", { value: 'axb' }, false],
    ["value not startswith ''", { value: 'axb' }, false],
    ["value not endswith ''", { value: 'axb' }, false],
    ["value contains 'x'", {}, false],
    ["value not contains 'x'", {}, false],
    ["value not startswith 'x'", {}, false],
    ["'axb' contains 'x'", {}, true],
    ["'axb' not contains 'u'", {}, true],
    ["'axb' startswith '.'", {}, false],
    ["' ' endswith ' '", {}, true],
    ["'s' contains '\\'", {}, false],
    ["a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", { a: '3', b: '3', c: 'axbdc' }, true],
    ["a not in ('4', '4', '5') and b between 3 and 10 and c not startswith 'axbc'", { a: '3', b: '3', c: 'axbdc' }, true],
    ["a not in ('4', '4', '5') and b between 3 and 10 and c not endswith 'axbc'", { a: '3', b: '3', c: 'axbdc' }, true],
  ];
  for (const [expr, props, expected] of table) {
    it(`${expr} with ${JSON.stringify(props)} is ${expected}`, () => {
      assert.equal(matches(expr, props), expected);
    });
  }

  it('a failed string-to-number conversion aborts (RocketMQ throws; no match)', () => {
    assert.equal(outcome('key is not null and key between 0 and 100', { key: 'con' }), 'abort');
    assert.equal(outcome('a between 0 and 100', { a: 'abc' }), 'abort');
    assert.equal(outcome('a between up and low', { a: '3.14', up: 'up', low: 'low' }), 'abort');
    assert.equal(outcome('a between up and low', { a: '3.14' }), null);
  });
});

describe('sql92 three-valued logic', () => {
  const T = 'a = 1';
  const F = 'a = 2';
  const N = 'missing = 1';
  const P = { a: '1' };
  const table: [string, Outcome][] = [
    [`${T} AND ${T}`, true], [`${T} AND ${F}`, false], [`${T} AND ${N}`, null],
    [`${F} AND ${N}`, false], [`${N} AND ${F}`, false], [`${N} AND ${N}`, null],
    [`${T} OR ${N}`, true], [`${N} OR ${T}`, true], [`${F} OR ${N}`, null],
    [`${N} OR ${N}`, null], [`${F} OR ${F}`, false],
    [`NOT (${N})`, null], [`NOT (${T})`, false], [`NOT (${F})`, true], [`NOT NOT (${N})`, null],
    ['NULL', null], ['NOT NULL', null], ['TRUE', true], ['NOT TRUE', false], ['NULL OR TRUE', true], ['NULL AND FALSE', false],
    [`(${N}) IS NULL`, true], [`(${N}) IS NOT NULL`, false], [`(${T}) = TRUE`, true], [`(${N}) = TRUE`, null],
    // A bare property is a boolean cast: never true; unknown when missing.
    ['a', false], ['NOT a', true], ['missing', null], ['NOT missing', null],
    // Missing operands of comparisons give unknown.
    ['missing > 1', null], ['missing <> 1', null], ['1 < missing', null], ['missing between 1 and 2', null],
    ['missing not between 1 and 2', null], ["missing in ('x')", null], ["missing not in ('x')", null],
    // ... but the string tests give false, never unknown, so NOT of them is true.
    ["missing contains 'x'", false], ["missing not contains 'x'", false], ["NOT (missing contains 'x')", true],
    // Equality with a null on one side is asymmetric, as in RocketMQ's doCreateEqual.
    ['missing = a', null], ['a = missing', false], ['a <> missing', true], ['missing = other', true], ['missing <> other', false],
    ['a = -TRUE', false], ['missing = -a', true],
  ];
  for (const [expr, expected] of table) {
    it(`${expr} → ${String(expected)}`, () => assert.equal(outcome(expr, P), expected));
  }
});

describe('sql92 comparisons follow RocketMQ type conversion', () => {
  const table: [string, Props, Outcome][] = [
    // String property vs Integer literal: Integer.valueOf(property).
    ['a = 1', { a: '1' }, true], ['a = 1', { a: '+1' }, true], ['a = 1', { a: '01' }, true],
    ['a = 1', { a: '1.0' }, 'abort'], ['a = 1', { a: ' 1' }, 'abort'], ['a = 1', { a: 'x' }, 'abort'],
    ['a = 1', { a: '' }, 'abort'], ['a > 5', { a: '3000000000' }, 'abort'], ['a > 5', { a: '2147483647' }, true],
    ['a = -1', { a: '-1' }, true], ['a = -0', { a: '0' }, true], ['a = 0', { a: '-0' }, true],
    // Long literal (does not fit an int): Long.valueOf(property).
    ['a > 2147483648', { a: '3000000000' }, true], ['a > -2147483648', { a: '3000000000' }, true],
    ['a = 9223372036854775807', { a: '9223372036854775807' }, true],
    ['a < 9223372036854775807', { a: '9223372036854775806' }, true],
    ['a = 9007199254740993', { a: '9007199254740992' }, false],
    ['a > 9223372036854775806', { a: '9223372036854775808' }, 'abort'],
    ['a = 5000000000', { a: '5000000000.0' }, 'abort'],
    // Double literal: Double.valueOf(property), which trims and accepts more forms.
    ['a = 1.5', { a: '1.5' }, true], ['a = 1.5', { a: ' 1.5 ' }, true], ['a = 1.5', { a: '1.5d' }, true],
    ['a = 1.5', { a: '15e-1' }, true], ['a = 1.5', { a: '0x1.8p0' }, true], ['a = 1.5', { a: 'abc' }, 'abort'],
    ['a > 1.5', { a: 'NaN' }, true], ['a < 1.5', { a: '-Infinity' }, true], ['a > 1.5', { a: 'infinity' }, 'abort'],
    ['a >= 1.0', { a: '1' }, true], ['a > 0.5', { a: '1' }, true],
    // Integer vs Double literals compare numerically.
    ['1 = 1.0', {}, true], ['2 > 1.5', {}, true], ['-1.5 < -1', {}, true], ['9223372036854775807 = 9.223372036854775807E18', {}, true],
    // Literal on the left converts the property to the literal's type.
    ['5 < a', { a: '10' }, true], ['5 = a', { a: 'x' }, 'abort'], ['1.5 = a', { a: '1.50' }, true],
    // Two strings with < > <= >= are compared as doubles; with = / <> as strings.
    ['a < b', { a: '9', b: '10' }, true], ['a < b', { a: 'x', b: '10' }, 'abort'], ['a = b', { a: '1', b: '1.0' }, false],
    ["a = '1'", { a: '1' }, true], ["'5' = 5", {}, true], ["'x' = 5", {}, 'abort'],
    ['a >= b', { a: 'NaN', b: 'NaN' }, true], ['a < b', { a: '-0', b: '0' }, true],
    // Booleans.
    ['a = TRUE', { a: 'true' }, true], ['a = TRUE', { a: 'yes' }, false], ['a = FALSE', { a: 'yes' }, true],
    ['TRUE = a', { a: 'true' }, 'abort'], ['TRUE = a', {}, false], ['1 = TRUE', {}, false], ['TRUE = TRUE', {}, true],
    ['(a = 1) = (b = 2)', { a: '1', b: '2' }, true], ['(a = 1) = (b = 2)', { a: '1', b: '3' }, false],
    // Negation of a non-number is null.
    ['a > -b', { a: '1', b: '1' }, null], ["a = -'x'", { a: '1' }, false],
    // Text tests need a string operand.
    ["5 contains '5'", {}, false], ["(a = 1) not contains 'x'", { a: '1' }, false],
    ["(a = 1) contains 'x'", { a: 'x' }, 'abort'], ["-(a = 1) is null", { a: 'x' }, 'abort'],
    // IN is an exact string match.
    ["a in ('1')", { a: '01' }, false], ["a in ('it''s', 'b')", { a: "it's" }, true], ["a in ('x','y','z','w','v','u')", { a: 'u' }, true],
  ];
  for (const [expr, props, expected] of table) {
    it(`${expr} with ${JSON.stringify(props)} → ${String(expected)}`, () => assert.equal(outcome(expr, props), expected));
  }

  it('an abort fails the whole expression, but only if evaluation reaches it', () => {
    assert.equal(matches("a = 1 OR b = 'x'", { a: 'abc', b: 'x' }), false);
    assert.equal(matches("b = 'x' OR a = 1", { a: 'abc', b: 'x' }), true);
    assert.equal(matches("NOT (a = 1) OR b = 'x'", { a: 'abc', b: 'x' }), false);
    assert.equal(matches("b = 'y' AND a = 1", { a: 'abc', b: 'x' }), false);
  });

  it('NOT binds tighter than =, as in RocketMQ', () => {
    // (NOT a) = 1: a boolean compared with an integer is never equal.
    assert.equal(outcome('NOT a = 1', { a: '1' }), false);
    assert.equal(outcome('NOT a = 1', {}), null);
    assert.equal(outcome('NOT (a = 1)', { a: '2' }), true);
  });

  it('a getter that throws is not swallowed', () => {
    const f = compileSql92('a = 1');
    assert.throws(() => f.matches(() => { throw new RangeError('boom'); }), RangeError);
  });
});

describe('sql92 lexical details', () => {
  const table: [string, Props, boolean][] = [
    ['a = 5L', { a: '5' }, true],
    ['a = 5l', { a: '5' }, true],
    ['a = .5', { a: '0.5' }, true],
    ['a = 5.', { a: '5' }, true],
    ['a = 5E2', { a: '500' }, true],
    ['a = 5e+2', { a: '500' }, true],
    ['a = 00.5', { a: '.5' }, true],
    ["a = ''''", { a: "'" }, true],
    ["a = ''", { a: '' }, true],
    ["a = 'line\nbreak'", { a: 'line\nbreak' }, true],
    ["a = '\u{1F600}'", { a: '\u{1F600}' }, true],
    ['a = 1 -- c\r\nOR b = 1', { b: '1' }, true],
    ['a = 1 --c\nOR b = 1', { b: '1' }, true],
    ['a = --1', { a: '1' }, true], // no line break: two minus signs
    ['a = 1 /* x */ /* OR b = 1 */', { b: '1' }, false],
  ];
  for (const [expr, props, expected] of table) {
    it(`${JSON.stringify(expr)} with ${JSON.stringify(props)} is ${expected}`, () => assert.equal(matches(expr, props), expected));
  }

  it('a number directly followed by letters lexes as two tokens', () => {
    // "1AND" lexes as 1, AND (keywords are tokens wherever an identifier could start).
    assert.equal(matches('a=1AND b=2', { a: '1', b: '2' }), true);
    assert.match(parseError('a = 1e').message, /expected end of expression but found 'e'/);
    assert.match(parseError('a = 0x10').message, /found 'x10'/);
  });

  it('keywords are whole words only', () => {
    assert.equal(matches('notes = 1 AND android = 2 AND isx = 3', { notes: '1', android: '2', isx: '3' }), true);
    assert.match(parseError('in = 1').message, /expected an expression/);
  });
});

describe('sql92 Java number parsing', () => {
  it('Integer.parseInt', () => {
    assert.equal(parseJavaInt('0'), 0);
    assert.equal(parseJavaInt('-2147483648'), -2147483648);
    assert.equal(parseJavaInt('2147483647'), 2147483647);
    assert.equal(parseJavaInt('+7'), 7);
    assert.equal(parseJavaInt('0000000000000000000042'), 42);
    for (const bad of ['', '+', '-', '2147483648', '-2147483649', '1.0', ' 1', '1 ', '1e3', '0x1', '١']) {
      assert.equal(parseJavaInt(bad), undefined, bad);
    }
  });

  it('Long.parseLong', () => {
    assert.equal(parseJavaLong('9223372036854775807'), 9223372036854775807n);
    assert.equal(parseJavaLong('-9223372036854775808'), -9223372036854775808n);
    assert.equal(parseJavaLong('9007199254740991'), 9007199254740991);
    assert.equal(parseJavaLong('-00000000000000000000001'), -1);
    assert.equal(parseJavaLong('123456789012345'), 123456789012345);
    for (const bad of ['', '-', '9223372036854775808', '-9223372036854775809', '1L', '12345678901234567x']) {
      assert.equal(parseJavaLong(bad), undefined, bad);
    }
  });

  it('Double.valueOf', () => {
    const ok: [string, number][] = [
      ['1', 1], ['-1.5', -1.5], ['+.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-3', 0.001], ['1.5f', 1.5], ['2D', 2],
      ['\t 3 \n', 3], ['NaN', NaN], ['-NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['1e400', Infinity],
      ['0x10p0', 16], ['0X1.8P1', 3], ['-0x.8p1', -1], ['0x1p-1074', 5e-324], ['0x1p-1075', 0], ['0x1.8p-1075', 5e-324],
      ['0x1p1024', Infinity], ['0x1.fffffffffffff8p1023', Infinity], ['0x1.fffffffffffff7p1023', Number.MAX_VALUE],
      ['0x1.00000000000008p0', 1], ['0x1.00000000000018p0', 1 + 2 * Number.EPSILON], ['0x0p99999999999', 0],
    ];
    for (const [text, value] of ok) assert.equal(parseJavaDouble(text), value, text);
    assert.ok(Object.is(parseJavaDouble('-0'), -0));
    for (const bad of ['', ' ', '.', 'e5', '1e', '1e+', '1.5ff', '1.5x', 'nan', 'inf', '+-1', '0x', '0x1', '0x1.8', '0xp1', '1_000', '١']) {
      assert.equal(parseJavaDouble(bad), undefined, bad);
    }
  });
});

describe('sql92 properties (fast-check)', () => {
  const fragments = [
    'a', 'b', 'TAGS', ' ', '(', ')', '=', '<>', '>', '>=', '<', '<=', ',', '+', '-', "'", "''", "'x'", '1', '0', '2.5',
    '.5', 'e', '1e3', 'L', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'BETWEEN', 'CONTAINS', 'STARTSWITH',
    'ENDSWITH', '--', '\n', '/*', '*/', '#', '!', '9223372036854775808', '0.0',
  ];
  const tokenSoup = fc.array(fc.constantFrom(...fragments), { maxLength: 40 }).map((parts) => parts.join(' '));
  const props = fc.dictionary(
    fc.constantFrom('a', 'b', 'TAGS'),
    fc.oneof(fc.constantFrom('1', '2.5', 'x', '', 'true', 'NaN', '-0', '9223372036854775807'), fc.string({ maxLength: 5 })),
  );

  it('random input either compiles or throws Sql92ParseError, and evaluation never throws', { timeout: 60_000 }, () => {
    const check = (expr: string, p: Props) => {
      let f;
      try {
        f = compileSql92(expr);
      } catch (e) {
        assert.ok(e instanceof Sql92ParseError, `${JSON.stringify(expr)} threw ${String(e)}`);
        assert.ok(Number.isInteger(e.position) && e.position >= 0 && e.position <= expr.length, e.message);
        return;
      }
      assert.equal(typeof f.matches(getter(p)), 'boolean');
    };
    fc.assert(fc.property(fc.string({ maxLength: 60 }), props, check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), props, check), { numRuns: 1000 });
    fc.assert(fc.property(tokenSoup, props, check), { numRuns: 5000 });
  });

  it('huge or pathological inputs fail fast', { timeout: 10_000 }, () => {
    const started = performance.now();
    for (const expr of [
      '('.repeat(100_000), 'NOT '.repeat(100_000), "'".repeat(100_001), '/*'.repeat(50_000), 'a'.repeat(1 << 20),
      '-'.repeat(4096), '('.repeat(4096), '1'.repeat(4096), "'" + 'x'.repeat(4094),
    ]) {
      assert.throws(() => compileSql92(expr), Sql92ParseError);
    }
    assert.ok(performance.now() - started < 2000);
  });

  // Generated well-formed expressions: relations between outcomes that hold
  // for RocketMQ's three-valued logic, aborts included.
  const atom = fc.oneof(
    fc.constantFrom('a', 'b', 'c').chain((p) =>
      fc.oneof(
        fc.constantFrom(`${p} = 1`, `${p} > 1.5`, `${p} <= -2`, `${p} <> 'x'`, `${p} IS NULL`, `${p} IS NOT NULL`,
          `${p} IN ('1', 'x')`, `${p} NOT IN ('1')`, `${p} BETWEEN 1 AND 2`, `${p} NOT BETWEEN 1 AND 2`,
          `${p} CONTAINS 'x'`, `${p} NOT STARTSWITH '1'`, `${p} = TRUE`, `${p}`, `${p} = a`, `${p} < b`),
      )),
    fc.constantFrom('TRUE', 'FALSE', 'NULL'),
  );
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
      atom,
      fc.tuple(tie('e'), tie('e')).map(([x, y]) => `(${x}) AND (${y})`),
      fc.tuple(tie('e'), tie('e')).map(([x, y]) => `(${x}) OR (${y})`),
      tie('e').map((x) => `NOT (${x})`),
    ),
  })).e;
  const values = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('1', '2', '1.5', '-3', 'x', 'true', ''));

  it('generated expressions: at most one of X, NOT X, X IS NULL; NOT NOT X ≡ X; De Morgan', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(expr, expr, values, (x, y, p) => {
        const get = getter(p);
        const m = (e: string) => compileSql92(e).matches(get);
        outcome(x, p); // asserts at most one outcome
        assert.equal(m(`NOT NOT (${x})`), m(x));
        assert.equal(m(`NOT ((${x}) AND (${y}))`), m(`(NOT (${x})) OR (NOT (${y}))`));
        assert.equal(m(`NOT ((${x}) OR (${y}))`), m(`(NOT (${x})) AND (NOT (${y}))`));
        assert.equal(m(`(${x}) AND (${y})`), m(x) && m(y));
      }),
      { numRuns: 1000 },
    );
  });
});
