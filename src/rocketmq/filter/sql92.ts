// RocketMQ SQL92 message filter (the broker side of MessageSelector.bySql).
//
// compileSql92() lexes and parses an expression once into a tree of closures;
// Sql92Filter.matches() evaluates it against one message's properties. The
// grammar, precedence, parse-time checks and evaluation rules follow RocketMQ's
// `filter` module (SelectorParser.jj and the expression classes); README.md in
// this directory lists the rules and the few places where we differ.
//
// Evaluation is three-valued: a boolean node yields true, false or null
// (unknown). A message matches only when the whole expression is true. Where
// RocketMQ throws while evaluating (a property that does not parse as the
// number it is compared with, for instance) the whole evaluation is abandoned
// and the message does not match, whatever the rest of the expression says;
// we model that with a thrown sentinel that matches() catches.

export class Sql92ParseError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at ${position}`);
    this.name = 'Sql92ParseError';
    this.position = position;
  }
}

export interface Sql92Filter {
  readonly expression: string;
  matches(get: (name: string) => string | undefined): boolean;
}

/** Longest expression accepted, in UTF-16 code units. */
export const SQL92_MAX_LENGTH = 4096;
/** Deepest nesting of parentheses and prefix operators (NOT, -, +). */
export const SQL92_MAX_NESTING = 100;
/** Tallest expression tree (guards chains such as `a = b = c = ...`). */
export const SQL92_MAX_TREE_HEIGHT = 256;

type Getter = (name: string) => string | undefined;
type Value = string | number | bigint | boolean | null;
type Evaluator = (get: Getter) => Value;

// Thrown (never as an Error, so without a stack trace) when RocketMQ would
// throw during evaluation; matches() turns it into "does not match".
const EVAL_ABORT: { readonly abort: true } = Object.freeze({ abort: true });

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

type TokenType =
  | 'EOF' | 'NOT' | 'AND' | 'OR' | 'BETWEEN' | 'IN' | 'TRUE' | 'FALSE' | 'NULL' | 'IS'
  | 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH'
  | 'DECIMAL' | 'FLOAT' | 'STRING' | 'ID'
  | '=' | '<>' | '>' | '>=' | '<' | '<=' | '(' | ',' | ')' | '+' | '-';

interface Token {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  /** Identifier name, decoded string literal or literal digits. */
  readonly text: string;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['NOT', 'NOT'], ['AND', 'AND'], ['OR', 'OR'], ['BETWEEN', 'BETWEEN'], ['IN', 'IN'],
  ['TRUE', 'TRUE'], ['FALSE', 'FALSE'], ['NULL', 'NULL'], ['IS', 'IS'],
  ['CONTAINS', 'CONTAINS'], ['STARTSWITH', 'STARTSWITH'], ['ENDSWITH', 'ENDSWITH'],
]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36; // a-z A-Z _ $
}

function isIdPart(c: number): boolean {
  return isIdStart(c) || isDigit(c);
}

function describeChar(s: string, i: number): string {
  const cp = s.codePointAt(i) ?? 0;
  if (cp >= 0x21 && cp <= 0x7e) return `'${String.fromCodePoint(cp)}'`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

// Token rules are RocketMQ's (JavaCC, longest match wins, keywords win ties):
//   whitespace     ' ' \t \n \r \f only
//   comments       `-- ... <newline>` (must end with \n or \r) and `/* ... */`
//   DECIMAL        0 | [1-9][0-9]*[lL]?
//   FLOAT          [0-9]+ '.' [0-9]* EXP? | '.' [0-9]+ EXP? | [0-9]+ EXP   (EXP = [eE][+-]?[0-9]+)
//   STRING         ' ( '' | any char but ' )* '
//   ID             [a-zA-Z_$][a-zA-Z0-9_$]*  (keywords are case-insensitive)
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i++;
      continue;
    }
    const start = i;
    if (c === 45 /* - */ && src.charCodeAt(i + 1) === 45) {
      // A line comment only when a line break ends it; otherwise two minus signs.
      let j = i + 2;
      while (j < n && src.charCodeAt(j) !== 10 && src.charCodeAt(j) !== 13) j++;
      if (j < n) {
        i = j + 1;
        continue;
      }
    }
    if (c === 47 /* / */) {
      if (src.charCodeAt(i + 1) !== 42 /* * */) {
        throw new Sql92ParseError("unexpected character '/'", i);
      }
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw new Sql92ParseError('unterminated comment', i);
      i = close + 2;
      continue;
    }
    if (c === 39 /* ' */) {
      // Longest match: a doubled quote is an escaped quote when a closing
      // quote follows somewhere; otherwise the literal ends at the first
      // quote of the last pair and the second one opens a new (unterminated)
      // literal, as JavaCC would lex it.
      let j = i + 1;
      let text = '';
      let chunk = j;
      let fallbackEnd = -1;
      let fallbackText = '';
      for (;;) {
        if (j >= n) {
          if (fallbackEnd < 0) throw new Sql92ParseError('unterminated string literal', start);
          j = fallbackEnd;
          text = fallbackText;
          break;
        }
        if (src.charCodeAt(j) === 39) {
          if (src.charCodeAt(j + 1) === 39) {
            fallbackEnd = j + 1;
            fallbackText = text + src.slice(chunk, j);
            text += src.slice(chunk, j + 1);
            j += 2;
            chunk = j;
            continue;
          }
          text += src.slice(chunk, j);
          j++;
          break;
        }
        j++;
      }
      tokens.push({ type: 'STRING', start, end: j, text });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 /* . */ && isDigit(src.charCodeAt(i + 1)))) {
      i = lexNumber(src, i, tokens);
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(src.charCodeAt(j))) j++;
      const text = src.slice(i, j);
      const keyword = j - i <= 10 ? KEYWORDS.get(text.toUpperCase()) : undefined;
      tokens.push({ type: keyword ?? 'ID', start, end: j, text });
      i = j;
      continue;
    }
    let op: TokenType | undefined;
    switch (c) {
      case 61: op = '='; break;
      case 62: op = src.charCodeAt(i + 1) === 61 ? '>=' : '>'; break;
      case 60: {
        const d = src.charCodeAt(i + 1);
        op = d === 62 ? '<>' : d === 61 ? '<=' : '<';
        break;
      }
      case 40: op = '('; break;
      case 41: op = ')'; break;
      case 44: op = ','; break;
      case 43: op = '+'; break;
      case 45: op = '-'; break;
    }
    if (op === undefined) throw new Sql92ParseError(`unexpected character ${describeChar(src, i)}`, i);
    i += op.length;
    tokens.push({ type: op, start, end: i, text: op });
  }
  tokens.push({ type: 'EOF', start: n, end: n, text: '' });
  return tokens;
}

function lexNumber(src: string, start: number, tokens: Token[]): number {
  const n = src.length;
  let i = start;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  const intEnd = i;
  let isFloat = false;
  if (i < n && src.charCodeAt(i) === 46) {
    isFloat = true;
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  // Exponent: only when digits follow the optional sign.
  const e = src.charCodeAt(i);
  if (e === 101 || e === 69) {
    let j = i + 1;
    const s = src.charCodeAt(j);
    if (s === 43 || s === 45) j++;
    if (isDigit(src.charCodeAt(j))) {
      while (j < n && isDigit(src.charCodeAt(j))) j++;
      isFloat = true;
      i = j;
    }
  }
  if (isFloat) {
    tokens.push({ type: 'FLOAT', start, end: i, text: src.slice(start, i) });
    return i;
  }
  // DECIMAL: a lone "0", or no leading zero; "007" lexes as 0, 0, 7.
  let end = src.charCodeAt(start) === 48 ? start + 1 : intEnd;
  const text = src.slice(start, end);
  if (end === intEnd && text !== '0') {
    const l = src.charCodeAt(end);
    if (l === 108 || l === 76) end++;
  }
  tokens.push({ type: 'DECIMAL', start, end, text });
  return end;
}

// ---------------------------------------------------------------------------
// Java value semantics
// ---------------------------------------------------------------------------

// Static type of what a node evaluates to. Properties and string literals are
// STR (string or null); numeric literals keep their Java type (Integer, Long,
// Double) because that type decides how a string is converted for comparison.
const STR = 0;
const INT = 1;
const LONG = 2;
const DBL = 3;
const BOOL = 4;
const NUL = 5;
type Ty = typeof STR | typeof INT | typeof LONG | typeof DBL | typeof BOOL | typeof NUL;

const INT_MAX = 2147483647;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** A Java long as a number when it is a safe integer, else a bigint. */
function longValue(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Integer.parseInt: optional sign, ASCII digits, 32-bit range; undefined on NumberFormatException. */
export function parseJavaInt(s: string): number | undefined {
  const n = s.length;
  let i = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) { neg = true; i = 1; } else if (c0 === 43) { i = 1; }
  if (i >= n) return undefined;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
    if (v > 2147483648) return undefined;
  }
  if (neg) return v === 0 ? 0 : -v;
  return v > INT_MAX ? undefined : v;
}

/** Long.parseLong: optional sign, ASCII digits, 64-bit range; undefined on NumberFormatException. */
export function parseJavaLong(s: string): number | bigint | undefined {
  const n = s.length;
  let i = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) { neg = true; i = 1; } else if (c0 === 43) { i = 1; }
  if (i >= n) return undefined;
  if (n - i <= 15) {
    let v = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      v = v * 10 + d;
    }
    return neg ? (v === 0 ? 0 : -v) : v;
  }
  for (let j = i; j < n; j++) {
    const d = s.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return undefined;
  }
  const b = BigInt(s);
  if (b > LONG_MAX || b < LONG_MIN) return undefined;
  return longValue(b);
}

/**
 * Double.valueOf: trims chars <= ' ', optional sign, NaN, Infinity, decimal
 * with optional exponent, hexadecimal with binary exponent, optional f/F/d/D
 * suffix. undefined on NumberFormatException.
 */
export function parseJavaDouble(s: string): number | undefined {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 32) start++;
  while (end > start && s.charCodeAt(end - 1) <= 32) end--;
  if (start === end) return undefined;
  let i = start;
  let c = s.charCodeAt(i);
  let neg = false;
  if (c === 43 || c === 45) {
    neg = c === 45;
    if (++i === end) return undefined;
    c = s.charCodeAt(i);
  }
  if (c === 78 /* N */) return end - i === 3 && s.startsWith('NaN', i) ? NaN : undefined;
  if (c === 73 /* I */) {
    if (end - i === 8 && s.startsWith('Infinity', i)) return neg ? -Infinity : Infinity;
    return undefined;
  }
  if (c === 48 && i + 1 < end && (s.charCodeAt(i + 1) | 0x20) === 120 /* x */) {
    return parseJavaHexDouble(s, i + 2, end, neg);
  }
  let digits = 0;
  while (i < end && isDigit(s.charCodeAt(i))) { i++; digits++; }
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) { i++; digits++; }
  }
  if (digits === 0) return undefined;
  if (i < end && (s.charCodeAt(i) | 0x20) === 101 /* e */) {
    i++;
    if (i < end && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const expStart = i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return undefined;
  }
  let numEnd = end;
  if (i < end) {
    const f = s.charCodeAt(i) | 0x20;
    if (i !== end - 1 || (f !== 102 && f !== 100)) return undefined;
    numEnd = end - 1;
  }
  return Number(start === 0 && numEnd === s.length ? s : s.slice(start, numEnd));
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
}

// `0x` already consumed: hexdigits [. hexdigits] p [+-] digits [fFdD], rounded
// to nearest-even like Java (including subnormals).
function parseJavaHexDouble(s: string, from: number, end: number, neg: boolean): number | undefined {
  let i = from;
  let mantissa = '';
  while (i < end && isHexDigit(s.charCodeAt(i))) i++;
  mantissa = s.slice(from, i);
  let fracDigits = 0;
  if (i < end && s.charCodeAt(i) === 46) {
    const f = ++i;
    while (i < end && isHexDigit(s.charCodeAt(i))) i++;
    fracDigits = i - f;
    mantissa += s.slice(f, i);
  }
  if (mantissa.length === 0) return undefined;
  if (i >= end || (s.charCodeAt(i) | 0x20) !== 112 /* p */) return undefined;
  i++;
  let expNeg = false;
  if (i < end && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) expNeg = s.charCodeAt(i++) === 45;
  const expStart = i;
  let exp = 0;
  while (i < end && isDigit(s.charCodeAt(i))) {
    if (exp < 100_000_000) exp = exp * 10 + (s.charCodeAt(i) - 48);
    i++;
  }
  if (i === expStart) return undefined;
  if (i < end) {
    const f = s.charCodeAt(i) | 0x20;
    if (i !== end - 1 || (f !== 102 && f !== 100)) return undefined;
  }
  const m = BigInt('0x' + mantissa);
  const signed = (v: number): number => (neg ? -v : v);
  if (m === 0n) return signed(0);
  const e2 = (expNeg ? -exp : exp) - 4 * fracDigits;
  const bits = m.toString(2).length;
  const top = bits - 1 + e2; // exponent of the leading bit
  if (top > 1023) return signed(Infinity);
  if (top < -1075) return signed(0);
  const keep = top >= -1022 ? 53 : top + 1075; // significant bits representable at this magnitude
  let q = m;
  let scale = e2;
  if (bits > keep) {
    const shift = BigInt(bits - keep);
    q = m >> shift;
    const rem = m - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    scale += bits - keep;
  }
  // q * 2^scale is exactly representable (or overflows); scale in two steps so
  // neither power of two underflows or overflows on its own.
  let v = Number(q);
  if (scale < -1000) { v *= 2 ** -600; scale += 600; }
  if (scale > 1000) { v *= 2 ** 600; scale -= 600; }
  return signed(v * 2 ** scale);
}

/** Boolean.valueOf(String): true iff "true" ignoring case. */
function parseJavaBoolean(s: string): boolean {
  return s.length === 4 &&
    (s.charCodeAt(0) | 0x20) === 116 && (s.charCodeAt(1) | 0x20) === 114 &&
    (s.charCodeAt(2) | 0x20) === 117 && (s.charCodeAt(3) | 0x20) === 101;
}

/** Double.compare: NaN above everything and equal to itself; -0.0 below 0.0. */
function compareDouble(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const an = Object.is(a, -0);
    return an === Object.is(b, -0) ? 0 : an ? -1 : 1;
  }
  const aNaN = a !== a;
  return aNaN === (b !== b) ? 0 : aNaN ? 1 : -1;
}

function compareIntegral(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toDouble(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * ComparisonExpression.__compare with string conversion on (RocketMQ always
 * parses with CONVERT_STRING_EXPRESSIONS set). Both values are non-null and
 * of the given static types. Throws EVAL_ABORT where Java throws.
 */
function javaCompare(lt: Ty, lv: Value, rt: Ty, rv: Value): number {
  if (lt === rt) {
    switch (lt) {
      case STR: return (lv as string) < (rv as string) ? -1 : (lv as string) > (rv as string) ? 1 : 0;
      case INT:
      case LONG: return compareIntegral(lv as number | bigint, rv as number | bigint);
      case DBL: return compareDouble(lv as number, rv as number);
      case BOOL: return lv === rv ? 0 : lv ? 1 : -1;
      default: return -1;
    }
  }
  switch (lt) {
    case BOOL:
      // `Boolean.valueOf((String) lv)` on a Boolean: ClassCastException.
      if (rt === STR) throw EVAL_ABORT;
      return -1;
    case INT:
    case LONG:
      if (rt === INT || rt === LONG) return compareIntegral(lv as number | bigint, rv as number | bigint);
      if (rt === DBL) return compareDouble(toDouble(lv as number | bigint), rv as number);
      if (rt === STR) {
        const r = lt === INT ? parseJavaInt(rv as string) : parseJavaLong(rv as string);
        if (r === undefined) throw EVAL_ABORT;
        return compareIntegral(lv as number | bigint, r);
      }
      return -1;
    case DBL:
      if (rt === INT || rt === LONG) return compareDouble(lv as number, toDouble(rv as number | bigint));
      if (rt === STR) {
        const r = parseJavaDouble(rv as string);
        if (r === undefined) throw EVAL_ABORT;
        return compareDouble(lv as number, r);
      }
      return -1;
    case STR:
      switch (rt) {
        case BOOL: {
          const l = parseJavaBoolean(lv as string);
          return l === rv ? 0 : l ? 1 : -1;
        }
        case INT:
        case LONG: {
          const l = rt === INT ? parseJavaInt(lv as string) : parseJavaLong(lv as string);
          if (l === undefined) throw EVAL_ABORT;
          return compareIntegral(l, rv as number | bigint);
        }
        case DBL: {
          const l = parseJavaDouble(lv as string);
          if (l === undefined) throw EVAL_ABORT;
          return compareDouble(l, rv as number);
        }
      }
      return -1;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Expression tree
// ---------------------------------------------------------------------------

// What RocketMQ's class hierarchy says about a node, which its parse-time
// checks look at: a PropertyExpression, a literal (ConstantExpression; TRUE,
// FALSE and NULL are also BooleanExpressions), a negation (`-x`, a plain
// UnaryExpression) or a BooleanExpression.
type Kind = 'prop' | 'const' | 'neg' | 'bool';

interface Node {
  readonly kind: Kind;
  readonly ty: Ty;
  readonly ev: Evaluator;
  /** Value of a literal or of a negated numeric literal. */
  readonly value?: Value;
  /** Property name, for IN. */
  readonly name?: string;
  readonly pos: number;
  readonly height: number;
  /** Operands of a flattened AND / OR. */
  readonly logic?: 'AND' | 'OR';
  readonly operands?: readonly Evaluator[];
}

function isBooleanExpression(n: Node): boolean {
  return n.kind === 'bool' || (n.kind === 'const' && (n.ty === BOOL || n.ty === NUL));
}

function constantNode(ty: Ty, value: Value, pos: number): Node {
  return { kind: 'const', ty, value, ev: () => value, pos, height: 1 };
}

const ALWAYS_NULL: Evaluator = () => null;
const ALWAYS_FALSE: Evaluator = () => false;

class Parser {
  private readonly src: string;
  private readonly tokens: Token[];
  private index = 0;
  private nesting = 0;

  constructor(src: string) {
    this.src = src;
    this.tokens = tokenize(src);
  }

  parse(): Evaluator {
    const node = this.orExpression();
    const t = this.peek();
    if (t.type !== 'EOF' && !this.isTrailingLineComment(t)) {
      throw new Sql92ParseError(`expected end of expression but found ${this.describe(t)}`, t.start);
    }
    return this.asBoolean(node).ev;
  }

  // RocketMQ ignores whatever follows a complete expression; a `--` comment
  // that runs to the end of the input without a line break (which its lexer
  // reads as two minus signs) is therefore accepted there, and here.
  private isTrailingLineComment(t: Token): boolean {
    return t.type === '-' && this.src.charCodeAt(t.start + 1) === 45;
  }

  // --- token helpers ---

  private peek(offset = 0): Token {
    const i = Math.min(this.index + offset, this.tokens.length - 1);
    return this.tokens[i]!;
  }

  private next(): Token {
    const t = this.tokens[this.index]!;
    if (t.type !== 'EOF') this.index++;
    return t;
  }

  private describe(t: Token): string {
    if (t.type === 'EOF') return 'end of expression';
    return `'${this.src.slice(t.start, Math.min(t.end, t.start + 20))}'`;
  }

  private fail(expected: string, t: Token = this.peek()): never {
    const found = t.type === 'EOF' ? '' : ` but found ${this.describe(t)}`;
    throw new Sql92ParseError(`expected ${expected}${found}`, t.start);
  }

  private expect(type: TokenType, what: string): Token {
    const t = this.peek();
    if (t.type !== type) this.fail(what, t);
    return this.next();
  }

  private stringLiteral(): string {
    return this.expect('STRING', 'string literal').text;
  }

  private tall(height: number, pos: number): number {
    if (height > SQL92_MAX_TREE_HEIGHT) throw new Sql92ParseError('expression nested too deeply', pos);
    return height;
  }

  // --- grammar (precedence lowest first, as in SelectorParser.jj) ---

  private orExpression(): Node {
    return this.logic('OR', () => this.andExpression());
  }

  private andExpression(): Node {
    return this.logic('AND', () => this.equalityExpression());
  }

  // Left-nested AND/OR chains evaluate exactly like one n-ary node (operands
  // left to right, stopping at the first false/true), so they are flattened.
  private logic(op: 'AND' | 'OR', operand: () => Node): Node {
    const first = operand();
    if (this.peek().type !== op) return first;
    const ops: Node[] = [this.asBoolean(first)];
    while (this.peek().type === op) {
      this.next();
      ops.push(this.asBoolean(operand()));
    }
    const evs: Evaluator[] = [];
    let height = 0;
    for (const o of ops) {
      if (o.logic === op && o.operands) evs.push(...o.operands);
      else evs.push(o.ev);
      height = Math.max(height, o.height);
    }
    return {
      kind: 'bool', ty: BOOL, pos: first.pos, logic: op, operands: evs,
      height: this.tall(height + 1, first.pos),
      ev: op === 'AND' ? andEvaluator(evs) : orEvaluator(evs),
    };
  }

  private equalityExpression(): Node {
    let left = this.comparisonExpression();
    for (;;) {
      const t = this.peek();
      if (t.type === '=' || t.type === '<>') {
        this.next();
        const right = this.comparisonExpression();
        const eq = this.equal(left, right, t);
        left = t.type === '=' ? eq : this.not(eq, t.start);
      } else if (t.type === 'IS') {
        this.next();
        if (this.peek().type === 'NULL') {
          this.next();
          left = this.isNull(left, t.start);
        } else if (this.peek().type === 'NOT' && this.peek(1).type === 'NULL') {
          this.next();
          this.next();
          left = this.not(this.isNull(left, t.start), t.start);
        } else {
          this.fail("'NULL' or 'NOT NULL' after 'IS'");
        }
      } else {
        return left;
      }
    }
  }

  private comparisonExpression(): Node {
    let left = this.unaryExpression();
    for (;;) {
      const t = this.peek();
      switch (t.type) {
        case '>':
        case '>=':
        case '<':
        case '<=': {
          this.next();
          left = this.relational(t.type, left, this.unaryExpression(), t);
          continue;
        }
        case 'CONTAINS':
        case 'STARTSWITH':
        case 'ENDSWITH':
          this.next();
          left = this.textMatch(t.type, false, left, this.stringLiteral(), t.start);
          continue;
        case 'BETWEEN':
          this.next();
          left = this.between(left, false, t);
          continue;
        case 'IN':
          this.next();
          left = this.inList(left, false, t);
          continue;
        case 'NOT': {
          const u = this.peek(1);
          switch (u.type) {
            case 'CONTAINS':
            case 'STARTSWITH':
            case 'ENDSWITH':
              this.next();
              this.next();
              left = this.textMatch(u.type, true, left, this.stringLiteral(), t.start);
              continue;
            case 'BETWEEN':
              this.next();
              this.next();
              left = this.between(left, true, t);
              continue;
            case 'IN':
              this.next();
              this.next();
              left = this.inList(left, true, t);
              continue;
          }
          return this.fail("'CONTAINS', 'STARTSWITH', 'ENDSWITH', 'BETWEEN' or 'IN' after 'NOT'", u);
        }
        default:
          return left;
      }
    }
  }

  private unaryExpression(): Node {
    const t = this.peek();
    if (++this.nesting > SQL92_MAX_NESTING) throw new Sql92ParseError('expression nested too deeply', t.start);
    let node: Node;
    switch (t.type) {
      case '+':
        this.next();
        node = this.unaryExpression();
        break;
      case '-':
        this.next();
        node = this.negate(this.unaryExpression(), t.start);
        break;
      case 'NOT':
        this.next();
        node = this.not(this.asBoolean(this.unaryExpression()), t.start);
        break;
      default:
        node = this.primaryExpression();
    }
    this.nesting--;
    return node;
  }

  private primaryExpression(): Node {
    const t = this.peek();
    switch (t.type) {
      case 'STRING':
        this.next();
        return constantNode(STR, t.text, t.start);
      case 'DECIMAL':
        this.next();
        return this.decimalLiteral(t);
      case 'FLOAT':
        this.next();
        return this.floatLiteral(t);
      case 'TRUE':
        this.next();
        return constantNode(BOOL, true, t.start);
      case 'FALSE':
        this.next();
        return constantNode(BOOL, false, t.start);
      case 'NULL':
        this.next();
        return constantNode(NUL, null, t.start);
      case 'ID': {
        this.next();
        const name = t.text;
        const ev: Evaluator = (get) => get(name) ?? null;
        return { kind: 'prop', ty: STR, name, ev, pos: t.start, height: 1 };
      }
      case '(': {
        this.next();
        const inner = this.orExpression();
        this.expect(')', "')'");
        return inner;
      }
      default:
        return this.fail('an expression', t);
    }
  }

  // ConstantExpression.createFromDecimal: a Java long, narrowed to Integer when it fits.
  private decimalLiteral(t: Token): Node {
    const b = BigInt(t.text);
    if (b > LONG_MAX) throw new Sql92ParseError(`integer literal ${t.text} out of range`, t.start);
    return b <= BigInt(INT_MAX) ? constantNode(INT, Number(b), t.start) : constantNode(LONG, longValue(b), t.start);
  }

  // ConstantExpression.createFloat rejects values above Double.MAX_VALUE and
  // below Double.MIN_VALUE, i.e. overflow to infinity and anything that is 0.
  private floatLiteral(t: Token): Node {
    const v = Number(t.text);
    if (v === Infinity) throw new Sql92ParseError(`float literal ${t.text} is greater than Double.MAX_VALUE`, t.start);
    if (v === 0) throw new Sql92ParseError(`float literal ${t.text} is less than Double.MIN_VALUE`, t.start);
    return constantNode(DBL, v, t.start);
  }

  // --- node builders mirroring RocketMQ's factories and their checks ---

  private asBoolean(n: Node): Node {
    if (isBooleanExpression(n)) return n;
    if (n.kind === 'prop') {
      // UnaryExpression.createBooleanCast: a property value (a string) is never a Boolean.
      const inner = n.ev;
      return {
        kind: 'bool', ty: BOOL, pos: n.pos, height: n.height + 1,
        ev: (get) => (inner(get) === null ? null : false),
      };
    }
    throw new Sql92ParseError('expected a boolean expression', n.pos);
  }

  private not(n: Node, pos: number): Node {
    const inner = n.ev;
    return {
      kind: 'bool', ty: BOOL, pos, height: this.tall(n.height + 1, pos),
      ev: (get) => {
        const v = inner(get);
        return v === null ? null : !v;
      },
    };
  }

  private negate(n: Node, pos: number): Node {
    const height = this.tall(n.height + 1, pos);
    if (n.ty === INT || n.ty === LONG) {
      const v = n.value as number | bigint;
      const value = typeof v === 'bigint' ? longValue(-v) : v === 0 ? 0 : -v;
      return { kind: 'neg', ty: n.ty, value, ev: () => value, pos, height };
    }
    if (n.ty === DBL) {
      const value = -(n.value as number);
      return { kind: 'neg', ty: DBL, value, ev: () => value, pos, height };
    }
    // Not a number: the negation is null, but an operand that may abort the
    // evaluation (a boolean expression) is still evaluated first.
    if (n.kind === 'bool' || (n.kind === 'neg' && n.ev !== ALWAYS_NULL)) {
      const inner = n.ev;
      return { kind: 'neg', ty: NUL, pos, height, ev: (get) => { inner(get); return null; } };
    }
    return { kind: 'neg', ty: NUL, value: null, ev: ALWAYS_NULL, pos, height };
  }

  private equal(left: Node, right: Node, op: Token): Node {
    // checkEqualOperand / checkEqualOperandCompatability.
    for (const side of [left, right]) {
      if (side.kind === 'const' && side.ty === NUL) throw new Sql92ParseError(`NULL cannot be compared with '${op.type}', use IS NULL`, side.pos);
    }
    if (left.kind === 'const' && right.kind === 'const' && isBooleanExpression(left) && !isBooleanExpression(right)) {
      throw new Sql92ParseError(`${this.src.slice(left.pos, op.start).trim()} cannot be compared with a non-boolean literal`, op.start);
    }
    return this.rawEqual(left, right, op.start);
  }

  // doCreateEqual: null on the left (only) gives null, null on the right
  // (only) gives false, both null gives true; otherwise __compare(...) == 0.
  private rawEqual(left: Node, right: Node, pos: number): Node {
    const l = left.ev;
    const r = right.ev;
    const lt = left.ty;
    const rt = right.ty;
    let ev: Evaluator;
    if (lt === STR && rt === STR) {
      ev = (get) => {
        const lv = l(get);
        const rv = r(get);
        if (lv === null) return rv === null ? true : null;
        if (rv === null) return false;
        return lv === rv;
      };
    } else {
      ev = (get) => {
        const lv = l(get);
        const rv = r(get);
        if (lv === null) return rv === null ? true : null;
        if (rv === null) return false;
        return javaCompare(lt, lv, rt, rv) === 0;
      };
    }
    return { kind: 'bool', ty: BOOL, pos, ev, height: this.tall(Math.max(left.height, right.height) + 1, pos) };
  }

  private isNull(left: Node, pos: number): Node {
    const l = left.ev;
    return {
      kind: 'bool', ty: BOOL, pos, height: this.tall(left.height + 1, pos),
      ev: (get) => l(get) === null,
    };
  }

  // checkLessThanOperand: literals must be numbers; boolean expressions are refused.
  private checkOrderable(n: Node, op: string): void {
    if (n.kind === 'const' ? !(n.ty === INT || n.ty === LONG || n.ty === DBL) : n.kind === 'bool') {
      throw new Sql92ParseError(`operand of '${op}' must be numeric or a property`, n.pos);
    }
  }

  private relational(op: '>' | '>=' | '<' | '<=', left: Node, right: Node, t: Token): Node {
    this.checkOrderable(left, op);
    this.checkOrderable(right, op);
    const l = left.ev;
    const r = right.ev;
    const lt = left.ty;
    const rt = right.ty;
    const test: (c: number) => boolean =
      op === '>' ? (c) => c > 0 : op === '>=' ? (c) => c >= 0 : op === '<' ? (c) => c < 0 : (c) => c <= 0;
    let ev: Evaluator;
    if (lt === STR && rt === STR) {
      // Two strings are ordered as doubles; either failing to parse aborts.
      ev = (get) => {
        const lv = l(get);
        if (lv === null) return null;
        const rv = r(get);
        if (rv === null) return null;
        const a = parseJavaDouble(lv as string);
        const b = parseJavaDouble(rv as string);
        if (a === undefined || b === undefined) throw EVAL_ABORT;
        return test(compareDouble(a, b));
      };
    } else {
      ev = (get) => {
        const lv = l(get);
        if (lv === null) return null;
        const rv = r(get);
        if (rv === null) return null;
        return test(javaCompare(lt, lv, rt, rv));
      };
    }
    return { kind: 'bool', ty: BOOL, pos: t.start, ev, height: this.tall(Math.max(left.height, right.height) + 1, t.start) };
  }

  private between(value: Node, negated: boolean, t: Token): Node {
    const low = this.unaryExpression();
    this.expect('AND', "'AND'");
    const high = this.unaryExpression();
    if (!negated && low.kind === 'const' && high.kind === 'const') {
      if (low.ty === NUL || high.ty === NUL) throw new Sql92ParseError('BETWEEN bounds cannot be NULL', t.start);
      const numeric = (n: Node) => n.ty === INT || n.ty === LONG || n.ty === DBL;
      if (numeric(low) && numeric(high) && javaCompare(high.ty, high.value as Value, low.ty, low.value as Value) < 0) {
        throw new Sql92ParseError('BETWEEN lower bound is greater than upper bound', t.start);
      }
    }
    // createBetween / createNotBetween: value >= low AND value <= high, or
    // value < low OR value > high (the value is looked up twice).
    const lowCmp = this.relational(negated ? '<' : '>=', value, low, t);
    const highCmp = this.relational(negated ? '>' : '<=', value, high, t);
    const evs = [lowCmp.ev, highCmp.ev];
    const height = this.tall(Math.max(lowCmp.height, highCmp.height) + 1, t.start);
    return negated
      ? { kind: 'bool', ty: BOOL, pos: t.start, height, logic: 'OR', operands: evs, ev: orEvaluator(evs) }
      : { kind: 'bool', ty: BOOL, pos: t.start, height, logic: 'AND', operands: evs, ev: andEvaluator(evs) };
  }

  private inList(left: Node, negated: boolean, t: Token): Node {
    this.expect('(', "'('");
    const items = new Set<string>([this.stringLiteral()]);
    while (this.peek().type === ',') {
      this.next();
      items.add(this.stringLiteral());
    }
    this.expect(')', "')'");
    if (left.kind !== 'prop') throw new Sql92ParseError('IN needs a property on its left', left.pos);
    const l = left.ev;
    return {
      kind: 'bool', ty: BOOL, pos: t.start, height: this.tall(left.height + 1, t.start),
      ev: (get) => {
        const v = l(get);
        if (v === null) return null;
        return items.has(v as string) !== negated;
      },
    };
  }

  // CONTAINS / STARTSWITH / ENDSWITH and their NOT forms: false for an empty
  // search string, a null or a non-string operand (never null).
  private textMatch(op: 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH', negated: boolean, left: Node, search: string, pos: number): Node {
    const height = this.tall(left.height + 1, pos);
    if (search.length === 0) return { kind: 'bool', ty: BOOL, pos, height, ev: ALWAYS_FALSE };
    const l = left.ev;
    let ev: Evaluator;
    if (left.ty !== STR) {
      ev = (get) => { l(get); return false; }; // evaluated for its possible abort
    } else if (op === 'CONTAINS') {
      ev = (get) => { const v = l(get); return v === null ? false : (v as string).includes(search) !== negated; };
    } else if (op === 'STARTSWITH') {
      ev = (get) => { const v = l(get); return v === null ? false : (v as string).startsWith(search) !== negated; };
    } else {
      ev = (get) => { const v = l(get); return v === null ? false : (v as string).endsWith(search) !== negated; };
    }
    return { kind: 'bool', ty: BOOL, pos, height, ev };
  }
}

// LogicExpression.createAND: false as soon as an operand is false; else null
// if any operand was null; else true. createOR is the dual (decisive true).
function logicEvaluator(evs: readonly Evaluator[], decisive: boolean): Evaluator {
  if (evs.length === 2) {
    const [a, b] = evs as [Evaluator, Evaluator];
    return (get) => {
      const x = a(get);
      if (x === decisive) return decisive;
      const y = b(get);
      if (y === decisive) return decisive;
      return x === null || y === null ? null : !decisive;
    };
  }
  return (get) => {
    let unknown = false;
    for (let i = 0; i < evs.length; i++) {
      const v = evs[i]!(get);
      if (v === decisive) return decisive;
      if (v === null) unknown = true;
    }
    return unknown ? null : !decisive;
  };
}

function andEvaluator(evs: readonly Evaluator[]): Evaluator {
  return logicEvaluator(evs, false);
}

function orEvaluator(evs: readonly Evaluator[]): Evaluator {
  return logicEvaluator(evs, true);
}

class CompiledSql92 implements Sql92Filter {
  readonly expression: string;
  readonly #ev: Evaluator;

  constructor(expression: string, ev: Evaluator) {
    this.expression = expression;
    this.#ev = ev;
  }

  matches(get: (name: string) => string | undefined): boolean {
    try {
      return this.#ev(get) === true;
    } catch (e) {
      if (e === EVAL_ABORT) return false;
      throw e;
    }
  }
}

/** Parses a RocketMQ SQL92 selector; throws Sql92ParseError when it is not valid. */
export function compileSql92(expression: string): Sql92Filter {
  if (typeof expression !== 'string') throw new Sql92ParseError('expression must be a string', 0);
  if (expression.length > SQL92_MAX_LENGTH) {
    throw new Sql92ParseError(`expression longer than ${SQL92_MAX_LENGTH} characters`, SQL92_MAX_LENGTH);
  }
  return new CompiledSql92(expression, new Parser(expression).parse());
}
