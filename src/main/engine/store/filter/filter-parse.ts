// Parser for obs/var value filters in the tiledbsoma `value_filter` grammar.
//
// tiledbsoma parses filters with Python's `ast`, so precedence here is Python's:
//   or  <  and  <  not  <  |  <  &  <  comparisons
// `and`/`or` and `&`/`|` mean the same thing; only their binding strength differs, exactly
// as in tiledbsoma (`a and b | c` is `a and (b | c)`). One deliberate extension: Python
// would read `x == 1 & y == 2` as `x == (1 & y) == 2` and tiledbsoma rejects it; here a
// comparison binds tighter than `&`/`|`, so it means `(x == 1) & (y == 2)` as in pandas.
// Also beyond tiledbsoma: `not in` / `(..)` lists, `isna(col)` / `notna(col)`, `true`/`false`,
// `val(..)` casts, pandas-style backtick names, and a bare bool column as a condition.

import { CellarError } from '../../../../shared/errors';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A constant in a filter. `position` is a 0-based index into the filter text. */
export type FilterLiteral =
  | { type: 'string'; value: string; position: number }
  /** `exactInteger` is set for integer literals so 64-bit columns compare exactly. */
  | { type: 'number'; value: number; exactInteger: bigint | null; position: number }
  | { type: 'bool'; value: boolean; position: number };

export interface ColumnRef {
  name: string;
  position: number;
}

export type FilterNode =
  /** Column on the left: `5 < x` is stored as `x > 5`. */
  | { type: 'compare'; column: ColumnRef; op: CompareOp; value: FilterLiteral }
  | { type: 'in'; column: ColumnRef; negated: boolean; values: FilterLiteral[] }
  /** isna(col), or notna(col) when negated. */
  | { type: 'isna'; column: ColumnRef; negated: boolean }
  /** A bare bool column used as a condition (`is_doublet`, `not is_doublet`). */
  | { type: 'truthy'; column: ColumnRef }
  | { type: 'and'; operands: FilterNode[] }
  | { type: 'or'; operands: FilterNode[] }
  | { type: 'not'; operand: FilterNode };

export interface FilterAst {
  /** The filter text as given, kept so later errors can point into it. */
  source: string;
  root: FilterNode;
}

type TokenKind = 'name' | 'string' | 'number' | 'punct' | 'keyword' | 'quotedName' | 'end';

interface Token {
  kind: TokenKind;
  /** Identifier/keyword/punctuation text, or the decoded string value. */
  text: string;
  start: number;
  end: number;
}

// Sticky patterns match at `lastIndex`, so tokenizing never copies the rest of the text.
const WORD = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/uy;
const RADIX_INTEGER = /0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+/y;
const DECIMAL = /(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/y;
const BAD_NUMBER = /[\p{L}\p{N}_.+-]+/uy;
const OCTAL_ESCAPE = /[0-7]{1,3}/y;

function matchAt(pattern: RegExp, text: string, index: number): string | null {
  pattern.lastIndex = index;
  return pattern.exec(text)?.[0] ?? null;
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'True', 'False', 'true', 'false', 'None']);
const PUNCTUATION = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '(', ')', '[', ']', ',', '&', '|', '-', '+', '=', '!', '~', '.'];
const COMPARE_OPS = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);
const REVERSED_OP: Record<CompareOp, CompareOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const NA_FUNCTIONS: Record<string, boolean> = { isna: false, isnull: false, notna: true, notnull: true };

/** Renders the filter line holding `index` with a caret under it (two lines, indented). */
export function caretLines(source: string, index: number): string[] {
  const lineStart = source.lastIndexOf('\n', index - 1) + 1;
  const newline = source.indexOf('\n', index);
  const line = source.slice(lineStart, newline < 0 ? source.length : newline).replace(/[\t\r]/g, ' ');
  let column = [...source.slice(lineStart, index)].length;
  let shown = [...line];
  // Long filters: show a window around the error so the caret stays on screen.
  const maxWidth = 100;
  if (shown.length > maxWidth) {
    const from = Math.max(0, Math.min(column - maxWidth / 2, shown.length - maxWidth));
    const prefix = from > 0 ? '…' : '';
    const suffix = from + maxWidth < shown.length ? '…' : '';
    shown = [...prefix, ...shown.slice(from, from + maxWidth), ...suffix];
    column = column - from + prefix.length;
  }
  return [`  ${shown.join('')}`, `  ${' '.repeat(column)}^`];
}

/** 1-based character position shown to users (counts code points, not UTF-16 units). */
export function filterPosition(source: string, index: number): number {
  return [...source.slice(0, index)].length + 1;
}

/** An error whose message is one sentence followed by the filter line and a caret. */
export function pointedFilterError(code: 'bad_filter' | 'unknown_column', sentence: string, source: string, index: number): CellarError {
  return new CellarError(code, `${sentence}\n${caretLines(source, index).join('\n')}`);
}

function syntaxError(source: string, index: number, reason: string): CellarError {
  return pointedFilterError('bad_filter', `Filter syntax error at position ${filterPosition(source, index)}: ${reason}.`, source, index);
}

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x3000 || code === 0xfeff || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029;
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'string':
      return `the string ${JSON.stringify(token.text)}`;
    case 'quotedName':
      return `\`${token.text}\``;
    default:
      return `'${token.text}'`;
  }
}

/** Produces tokens on demand, so a 10k-value list never holds 20k token objects at once. */
class Tokenizer {
  private index = 0;

  constructor(private readonly source: string) {}

  private fail(index: number, reason: string): never {
    throw syntaxError(this.source, index, reason);
  }

  next(): Token {
    const s = this.source;
    while (this.index < s.length && isSpace(s.charCodeAt(this.index))) this.index++;
    const start = this.index;
    if (start >= s.length) return { kind: 'end', text: '', start, end: start };
    const ch = s[start]!;

    if (ch === '"' || ch === "'") return this.readString(start, start, false);
    if (ch === '`') {
      const close = s.indexOf('`', start + 1);
      if (close < 0) this.fail(start, 'this backtick-quoted column name is never closed');
      this.index = close + 1;
      return { kind: 'quotedName', text: s.slice(start + 1, close), start, end: this.index };
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(s[start + 1] ?? ''))) return this.readNumber(start);

    const text = matchAt(WORD, s, start);
    if (text !== null) {
      const quote = s[start + text.length];
      // Python string prefixes: r"raw", u"text" (and combinations like Rb are not strings we accept).
      if ((quote === '"' || quote === "'") && /^[rRuU]$/.test(text)) {
        return this.readString(start, start + 1, text === 'r' || text === 'R');
      }
      this.index = start + text.length;
      return { kind: KEYWORDS.has(text) ? 'keyword' : 'name', text, start, end: this.index };
    }

    for (const p of PUNCTUATION) {
      if (s.startsWith(p, start)) {
        this.index = start + p.length;
        return { kind: 'punct', text: p, start, end: this.index };
      }
    }
    return this.fail(start, `unexpected character '${String.fromCodePoint(s.codePointAt(start)!)}'`);
  }

  private readNumber(start: number): Token {
    const s = this.source;
    const text = matchAt(RADIX_INTEGER, s, start) ?? matchAt(DECIMAL, s, start)!;
    const after = s[start + text.length] ?? '';
    if (/[\p{L}\p{N}_.]/u.test(after)) this.fail(start, `'${matchAt(BAD_NUMBER, s, start)}' is not a valid number`);
    this.index = start + text.length;
    return { kind: 'number', text: text.replace(/_/g, ''), start, end: this.index };
  }

  private readString(start: number, quoteAt: number, raw: boolean): Token {
    const s = this.source;
    const quote = s[quoteAt]!;
    let value = '';
    let i = quoteAt + 1;
    let runStart = i;
    for (;;) {
      if (i >= s.length || s[i] === '\n') this.fail(start, 'this string is never closed');
      const c = s[i]!;
      if (c !== quote && c !== '\\') {
        i++;
        continue;
      }
      value += s.slice(runStart, i);
      if (c === quote) break;
      const e = s[i + 1];
      if (e === undefined) this.fail(start, 'this string is never closed');
      if (raw) {
        // Raw strings keep the backslash; it still stops the quote from closing the string.
        value += s.slice(i, i + 2);
        i += 2;
      } else {
        const [decoded, next] = this.decodeEscape(i);
        value += decoded;
        i = next;
      }
      runStart = i;
    }
    this.index = i + 1;
    return { kind: 'string', text: value, start, end: this.index };
  }

  /** Decodes the Python escape at `backslashAt`: its text and the index after it. */
  private decodeEscape(backslashAt: number): [string, number] {
    const s = this.source;
    const e = s[backslashAt + 1]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined && !(e === '0' && /[0-7]/.test(s[backslashAt + 2] ?? ''))) {
      return [simple, backslashAt + 2];
    }
    const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLength) {
      const hex = s.slice(backslashAt + 2, backslashAt + 2 + hexLength);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) this.fail(backslashAt, `'\\${e}' must be followed by ${hexLength} hex digits`);
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.fail(backslashAt, `'\\${e}${hex}' is not a valid character`);
      return [String.fromCodePoint(code), backslashAt + 2 + hexLength];
    }
    const octal = matchAt(OCTAL_ESCAPE, s, backslashAt + 1);
    if (octal) {
      return [String.fromCodePoint(parseInt(octal, 8)), backslashAt + 1 + octal.length];
    }
    // Python keeps unknown escapes as written.
    return [`\\${e}`, backslashAt + 2];
  }
}

/** Any operand of a comparison before we know which side is the column. */
type Operand =
  | { kind: 'column'; ref: ColumnRef; start: number }
  | { kind: 'literal'; literal: FilterLiteral; start: number }
  | { kind: 'condition'; node: FilterNode; start: number };

class Parser {
  private readonly tokenizer: Tokenizer;
  /** Tokens read but not yet taken; the grammar needs at most two of lookahead. */
  private readonly lookahead: Token[] = [];

  constructor(private readonly source: string) {
    this.tokenizer = new Tokenizer(source);
  }

  parse(): FilterNode {
    if (this.peek().kind === 'end') throw new CellarError('bad_filter', 'The filter is empty; write a condition such as cell_type == "B cell".');
    const node = this.parseOr();
    const extra = this.peek();
    if (extra.kind !== 'end') {
      if (extra.text === ')') this.fail(extra, "this ')' has no matching '('");
      const lower = extra.text.toLowerCase();
      if (extra.kind === 'name' && (lower === 'and' || lower === 'or')) this.fail(extra, `write '${lower}' in lowercase`);
      this.fail(extra, `expected 'and' or 'or' before ${describeToken(extra)}`);
    }
    return node;
  }

  private peek(offset = 0): Token {
    while (this.lookahead.length <= offset) {
      const last = this.lookahead[this.lookahead.length - 1];
      this.lookahead.push(last?.kind === 'end' ? last : this.tokenizer.next());
    }
    return this.lookahead[offset]!;
  }

  private take(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.lookahead.shift();
    return token;
  }

  private is(token: Token, text: string): boolean {
    return (token.kind === 'punct' || token.kind === 'keyword') && token.text === text;
  }

  private fail(token: Token | number, reason: string): never {
    throw syntaxError(this.source, typeof token === 'number' ? token : token.start, reason);
  }

  private expectCondition(after: Token): void {
    const next = this.peek();
    if (next.kind === 'end' || this.is(next, ')') || this.is(next, 'and') || this.is(next, 'or') || this.is(next, '&') || this.is(next, '|')) {
      this.fail(next, `expected a condition after '${after.text}'`);
    }
  }

  private parseBinary(ops: string[], type: 'and' | 'or', parseOperand: () => FilterNode): FilterNode {
    const operands = [parseOperand()];
    while (ops.some((op) => this.is(this.peek(), op))) {
      const op = this.take();
      this.expectCondition(op);
      operands.push(parseOperand());
    }
    if (operands.length === 1) return operands[0]!;
    // Flatten nested nodes of the same kind: (a and b) and c → and(a, b, c).
    const flat = operands.flatMap((node) => (node.type === type ? node.operands : [node]));
    return { type, operands: flat };
  }

  private parseOr(): FilterNode {
    return this.parseBinary(['or'], 'or', () => this.parseAnd());
  }

  private parseAnd(): FilterNode {
    return this.parseBinary(['and'], 'and', () => this.parseNot());
  }

  private parseNot(): FilterNode {
    const token = this.peek();
    if (this.is(token, 'not')) {
      this.take();
      this.expectCondition(token);
      return { type: 'not', operand: this.parseNot() };
    }
    return this.parseBitOr();
  }

  private parseBitOr(): FilterNode {
    return this.parseBinary(['|'], 'or', () => this.parseBitAnd());
  }

  private parseBitAnd(): FilterNode {
    return this.parseBinary(['&'], 'and', () => this.parseComparison());
  }

  private parseComparison(): FilterNode {
    const first = this.parseOperand('expected a condition');
    const next = this.peek();

    if (this.is(next, 'in') || (this.is(next, 'not') && this.is(this.peek(1), 'in'))) {
      const negated = next.text === 'not';
      this.take();
      if (negated) this.take();
      if (first.kind !== 'column') this.failOperand(first, `the left side of '${negated ? 'not in' : 'in'}' must be a column name`);
      const values = this.parseList(negated ? 'not in' : 'in');
      const after = this.peek();
      if (COMPARE_OPS.has(after.text) && after.kind === 'punct') this.fail(after, `'${negated ? 'not in' : 'in'}' cannot be chained with other comparisons`);
      return { type: 'in', column: first.ref, negated, values };
    }

    if (!(next.kind === 'punct' && COMPARE_OPS.has(next.text))) {
      this.rejectLookalikeOperator(next);
      if (first.kind === 'condition') return first.node;
      if (first.kind === 'column') return { type: 'truthy', column: first.ref };
      this.failOperand(first, 'a value on its own is not a condition; compare it with a column, e.g. x == 5');
    }

    // Chains follow Python: `a < b < c` means `a < b and b < c`.
    const comparisons: FilterNode[] = [];
    let left = first;
    while (this.peek().kind === 'punct' && COMPARE_OPS.has(this.peek().text)) {
      const opToken = this.take();
      const right = this.parseOperand(`expected a value after '${opToken.text}'`);
      comparisons.push(this.makeComparison(left, opToken, right));
      left = right;
    }
    if (this.is(this.peek(), 'in') || (this.is(this.peek(), 'not') && this.is(this.peek(1), 'in'))) {
      this.fail(this.peek(), "'in' cannot be chained with other comparisons");
    }
    this.rejectLookalikeOperator(this.peek());
    return comparisons.length === 1 ? comparisons[0]! : { type: 'and', operands: comparisons };
  }

  private rejectLookalikeOperator(token: Token): void {
    if (token.kind !== 'punct' && !this.is(token, 'is')) return;
    const hints: Record<string, string> = {
      '=': "use '==' to test equality",
      '!': "use '!=' for 'not equal' or 'not' to negate",
      '&&': "use 'and' (or '&') to combine conditions",
      '||': "use 'or' (or '|') to combine conditions",
      is: "'is' is not supported; use '==' or '!=', or isna(column) / notna(column) for missing values",
    };
    const hint = hints[token.text];
    if (hint) this.fail(token, hint);
  }

  private makeComparison(left: Operand, opToken: Token, right: Operand): FilterNode {
    const op = opToken.text as CompareOp;
    if (left.kind === 'condition') this.failOperand(left, `a condition cannot be compared with '${op}'; compare a column with a value`);
    if (right.kind === 'condition') this.failOperand(right, `a condition cannot be compared with '${op}'; compare a column with a value`);
    if (left.kind === 'column' && right.kind === 'column') {
      this.failOperand(right, `comparing two columns ("${left.ref.name}" ${op} "${right.ref.name}") is not supported; compare a column with a value`);
    }
    if (left.kind === 'literal' && right.kind === 'literal') {
      this.failOperand(left, `'${op}' compares two values; one side must be a column name (quote names with spaces as attr("a name"))`);
    }
    if (left.kind === 'column' && right.kind === 'literal') return { type: 'compare', column: left.ref, op, value: right.literal };
    if (left.kind === 'literal' && right.kind === 'column') return { type: 'compare', column: right.ref, op: REVERSED_OP[op], value: left.literal };
    throw new Error('unreachable');
  }

  private failOperand(operand: Operand, reason: string): never {
    this.fail(operand.start, reason);
  }

  private parseList(opText: string): FilterLiteral[] {
    const open = this.peek();
    if (!this.is(open, '[') && !this.is(open, '(')) this.fail(open, `expected a list such as ["a", "b"] after '${opText}'`);
    this.take();
    const close = open.text === '[' ? ']' : ')';
    const values: FilterLiteral[] = [];
    const unclosed = () => this.fail(this.peek(), `missing '${close}' to close the list opened at position ${filterPosition(this.source, open.start)}`);
    while (!this.is(this.peek(), close)) {
      if (this.peek().kind === 'end') unclosed();
      const operand = this.parseOperand('expected a list item');
      if (operand.kind !== 'literal') this.failOperand(operand, 'list items must be values (quote strings: "B cell")');
      values.push(operand.literal);
      if (this.is(this.peek(), ',')) this.take();
      else if (this.peek().kind === 'end') unclosed();
      else if (!this.is(this.peek(), close)) this.fail(this.peek(), `expected ',' or '${close}' in the list`);
    }
    const closeToken = this.take();
    if (values.length === 0) this.fail(closeToken, `the list after '${opText}' is empty; give at least one value`);
    return values;
  }

  /** One side of a comparison: column, literal, or a parenthesized/function condition. */
  private parseOperand(expectation: string): Operand {
    const token = this.peek();
    const start = token.start;

    switch (token.kind) {
      case 'end':
        return this.fail(token, `${expectation}, found ${describeToken(token)}`);
      case 'string':
        this.take();
        return { kind: 'literal', literal: { type: 'string', value: token.text, position: start }, start };
      case 'number':
        this.take();
        return { kind: 'literal', literal: numberLiteral(token.text, 1, start), start };
      case 'quotedName':
        this.take();
        return { kind: 'column', ref: { name: token.text, position: start }, start };
      case 'keyword':
        if (/^(True|true|False|false)$/.test(token.text)) {
          this.take();
          return { kind: 'literal', literal: { type: 'bool', value: token.text.toLowerCase() === 'true', position: start }, start };
        }
        if (token.text === 'None') this.fail(token, 'None cannot be compared; use isna(column) or notna(column) to test for missing values');
        return this.fail(token, `${expectation}, found ${describeToken(token)}`);
      case 'name':
        this.take();
        if (this.is(this.peek(), '(')) return this.parseCall(token);
        if (this.is(this.peek(), '.') && this.peek(1).kind === 'name') {
          const dotted = this.source.slice(token.start, this.peek(1).end);
          this.fail(token, `write column names that contain dots as attr("${dotted}")`);
        }
        return { kind: 'column', ref: { name: token.text, position: start }, start };
      case 'punct':
        break;
    }

    if (this.is(token, '-') || this.is(token, '+')) {
      let sign = 1;
      while (this.is(this.peek(), '-') || this.is(this.peek(), '+')) {
        if (this.take().text === '-') sign = -sign;
      }
      const numberToken = this.peek();
      if (numberToken.kind !== 'number') this.fail(numberToken, `expected a number after '${token.text}'`);
      this.take();
      return { kind: 'literal', literal: numberLiteral(numberToken.text, sign, start), start };
    }
    if (this.is(token, '(')) {
      this.take();
      if (this.is(this.peek(), ')')) this.fail(this.peek(), "expected a condition inside '()'");
      const node = this.parseOr();
      const close = this.peek();
      if (!this.is(close, ')')) {
        if (close.kind === 'end') this.fail(close, `missing ')' to close the '(' at position ${filterPosition(this.source, start)}`);
        this.fail(close, `expected ')' or 'and'/'or' before ${describeToken(close)}`);
      }
      this.take();
      return { kind: 'condition', node, start };
    }
    if (this.is(token, '~')) this.fail(token, "use 'not' to negate a condition");
    this.rejectLookalikeOperator(token);
    return this.fail(token, `${expectation}, found ${describeToken(token)}`);
  }

  private parseCall(name: Token): Operand {
    const open = this.take();
    const fn = name.text;
    if (fn !== 'attr' && fn !== 'val' && !(fn in NA_FUNCTIONS)) {
      this.fail(name, `unknown function '${fn}()'; the filter knows attr(), val(), isna() and notna()`);
    }
    if (this.is(this.peek(), ')')) this.fail(this.peek(), `${fn}() takes exactly one argument`);
    const arg = this.parseOperand(`expected an argument for ${fn}()`);
    const close = this.peek();
    if (this.is(close, ',')) this.fail(close, `${fn}() takes exactly one argument`);
    if (!this.is(close, ')')) {
      if (close.kind === 'end') this.fail(close, `missing ')' to close '${fn}(' at position ${filterPosition(this.source, open.start)}`);
      this.fail(close, `expected ')' to close '${fn}('`);
    }
    this.take();

    if (fn === 'attr') {
      if (arg.kind !== 'literal' || arg.literal.type !== 'string') this.failOperand(arg, 'attr() takes a quoted column name, e.g. attr("cell type")');
      return { kind: 'column', ref: { name: arg.literal.value, position: name.start }, start: name.start };
    }
    if (fn === 'val') {
      if (arg.kind !== 'literal') this.failOperand(arg, 'val() takes a single value such as val(1.0) or val("x")');
      return { kind: 'literal', literal: arg.literal, start: name.start };
    }
    if (arg.kind !== 'column') this.failOperand(arg, `${fn}() takes a column name, e.g. ${fn}(cell_type)`);
    return { kind: 'condition', node: { type: 'isna', column: arg.ref, negated: NA_FUNCTIONS[fn]! }, start: name.start };
  }
}

function numberLiteral(text: string, sign: number, position: number): FilterLiteral {
  const radix = /^0[xob]/i.test(text);
  const isInteger = radix || /^[0-9]+$/.test(text);
  if (isInteger) {
    const exact = BigInt(text) * BigInt(sign);
    return { type: 'number', value: Number(exact), exactInteger: exact, position };
  }
  return { type: 'number', value: sign * Number(text), exactInteger: null, position };
}

/** Parses a tiledbsoma-style value filter; throws CellarError('bad_filter') pointing at the problem. */
export function parseValueFilter(text: string): FilterAst {
  return { source: text, root: new Parser(text).parse() };
}

/** Column names a filter reads, in first-use order (lets a reader load only those). */
export function filterColumns(ast: FilterAst): string[] {
  const names = new Set<string>();
  const visit = (node: FilterNode): void => {
    switch (node.type) {
      case 'and':
      case 'or':
        node.operands.forEach(visit);
        break;
      case 'not':
        visit(node.operand);
        break;
      default:
        names.add(node.column.name);
    }
  };
  visit(ast.root);
  return [...names];
}
