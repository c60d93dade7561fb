import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/main/engine/columns/column-model';
import { CellarError } from '../../src/shared/errors';
import {
  compareCodePoints,
  evaluateFilter,
  filterColumns,
  parseValueFilter,
  selectedRows,
  type FilterLiteral,
  type FilterNode,
  type FilterTable,
} from '../../src/main/engine/store/filter/index';

// ---------------------------------------------------------------------------
// Fixture: one small table holding every column kind, with missing values.
// ---------------------------------------------------------------------------

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const N = 12;
const mask = (...rows: number[]) => {
  const m = new Uint8Array(N);
  for (const r of rows) m[r] = 1;
  return m;
};
const TWO53 = 2n ** 53n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const cellTypeCats = ['B cell', 'T cell', 'NK', 'Mono'];
const cellTypeCodes = [0, 1, -1, 2, 0, 3, 1, -1, 0, 2, 3, 1];
const nGenes = [100, 600, 550, 0, 1200, 501, 500, -3, 800, 2, 3000, 499];
const pctMt = [0.5, NaN, 5, 12.5, 3, NaN, 1, 20, 0, 7.25, -1, 5];
const score32 = [0.1, 0.2, 0.3, 1.5, 2.25, NaN, 0.1, 100, -0.5, 0, 3, 0.7];
const umis = [0n, 1n, TWO53, TWO53 + 1n, INT64_MIN, INT64_MAX, -5n, 100n, TWO53 + 1n, 42n, -TWO53 - 1n, 7n];
const uid = [0n, UINT64_MAX, 2n ** 63n, 5n, 2n ** 32n, 2n ** 32n - 1n, 1n, 3n, TWO53 + 1n, 9n, 0n, 100n];
const isDoublet = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1];
const flagValues = [1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0];
const flagMask = mask(2, 5, 9);
const batchValues = [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3];
const batchMask = mask(0, 4, 8);
const barcode: (string | null)[] = ['AAAC', 'AAAG', null, 'b', 'Ä', 'z', '細胞', '🧬x', '\uE000', 'aaac', '', 'AAAC'];
const donorValues = ['D1', 'D2', 'D1', 'D3', 'D2', 'D1', 'D3', 'D2', 'x', 'D1', 'D2', 'D3'];
const donorMask = mask(3, 7);
const spaced: (string | null)[] = ['a b', 'c', 'a b', 'c', 'a b', 'c', 'a b', 'c', 'a b', 'c', 'a b', 'c'];
const doseCats = [0.5, 1, 10];
const doseCodes = [0, 1, 2, -1, 0, 1, 2, -1, 0, 1, 2, 0];
const stageCats = ['early', 'mid', 'late'];
const stageCodes = [0, 1, 2, 0, 1, 2, 0, 1, 2, -1, 0, 1];
const groesse = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6];

function fixtureColumns(): Map<string, Column> {
  return new Map<string, Column>([
    ['cell_type', { kind: 'category', codes: Int32Array.from(cellTypeCodes), categories: { kind: 'string', values: [...cellTypeCats] }, ordered: false }],
    ['n_genes', { kind: 'numeric', dtype: 'int32', values: Int32Array.from(nGenes) }],
    ['pct_mt', { kind: 'numeric', dtype: 'float64', values: Float64Array.from(pctMt) }],
    ['score32', { kind: 'numeric', dtype: 'float32', values: Float32Array.from(score32) }],
    ['umis', { kind: 'numeric', dtype: 'int64', values: BigInt64Array.from(umis) }],
    ['uid', { kind: 'numeric', dtype: 'uint64', values: BigUint64Array.from(uid) }],
    ['is_doublet', { kind: 'bool', values: Uint8Array.from(isDoublet) }],
    ['flag', { kind: 'nullable-bool', values: Uint8Array.from(flagValues), mask: flagMask }],
    ['batch', { kind: 'nullable-int', dtype: 'int16', values: Int16Array.from(batchValues), mask: batchMask }],
    ['barcode', { kind: 'string', values: [...barcode] }],
    ['donor', { kind: 'nullable-string', values: [...donorValues], mask: donorMask }],
    ['cell type', { kind: 'string', values: [...spaced] }],
    ['dose', { kind: 'category', codes: Int32Array.from(doseCodes), categories: { kind: 'numeric', dtype: 'float64', values: Float64Array.from(doseCats) }, ordered: true }],
    ['stage', { kind: 'category', codes: Int32Array.from(stageCodes), categories: { kind: 'string', values: [...stageCats] }, ordered: true }],
    ['größe', { kind: 'numeric', dtype: 'int8', values: Int8Array.from(groesse) }],
  ]);
}

function tableOf(columns: Map<string, Column>): FilterTable {
  const first = columns.values().next().value as Column;
  const nRows = first.kind === 'category' ? first.codes.length : first.values.length;
  return { nRows, column: (name) => columns.get(name), columnNames: [...columns.keys()] };
}

const fixture = tableOf(fixtureColumns());

function rows(text: string, table: FilterTable = fixture): number[] {
  return [...selectedRows(evaluateFilter(parseValueFilter(text), table))];
}

/** Expected rows written as a plain per-row predicate over the fixture arrays. */
function where(predicate: (i: number) => boolean, n = N): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (predicate(i)) out.push(i);
  return out;
}

function thrown(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CellarError);
    return err as CellarError;
  }
  throw new Error('expected a CellarError');
}

const cellType = (i: number) => (cellTypeCodes[i]! < 0 ? null : cellTypeCats[cellTypeCodes[i]!]!);
const isNum = (x: number) => !Number.isNaN(x);

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/** AST without positions, bigint shown as strings: easy to compare. */
function shape(text: string): unknown {
  return JSON.parse(JSON.stringify(parseValueFilter(text).root, (key, value) => (key === 'position' ? undefined : typeof value === 'bigint' ? `${value}n` : value)));
}
const col = (name: string) => ({ name });
const num = (value: number, exact: string | null = `${value}n`) => ({ type: 'number', value, exactInteger: exact });
const str = (value: string) => ({ type: 'string', value });
const cmp = (name: string, op: string, value: unknown) => ({ type: 'compare', column: col(name), op, value });

describe('parseValueFilter: grammar', () => {
  it('parses the comparison operators with the column on either side', () => {
    for (const op of ['==', '!=', '<', '<=', '>', '>=']) expect(shape(`x ${op} 5`)).toEqual(cmp('x', op, num(5)));
    // A value on the left flips the operator so the column is always on the left.
    expect(shape('5 < x')).toEqual(cmp('x', '>', num(5)));
    expect(shape('5 >= x')).toEqual(cmp('x', '<=', num(5)));
    expect(shape('"B" == cell_type')).toEqual(cmp('cell_type', '==', str('B')));
  });

  it('expands chained comparisons pairwise like Python', () => {
    expect(shape('1 < x < 5')).toEqual({ type: 'and', operands: [cmp('x', '>', num(1)), cmp('x', '<', num(5))] });
    expect(shape('10 >= x > -2.5')).toEqual({ type: 'and', operands: [cmp('x', '<=', num(10)), cmp('x', '>', num(-2.5, null))] });
    expect(shape('x < 5 <= y')).toEqual({ type: 'and', operands: [cmp('x', '<', num(5)), cmp('y', '>=', num(5))] });
  });

  it('gives not > and > or, with comparisons binding tighter than all of them', () => {
    const a = cmp('a', '==', num(1));
    const b = cmp('b', '==', num(2));
    const c = cmp('c', '==', num(3));
    expect(shape('a == 1 or b == 2 and c == 3')).toEqual({ type: 'or', operands: [a, { type: 'and', operands: [b, c] }] });
    expect(shape('a == 1 and b == 2 or c == 3')).toEqual({ type: 'or', operands: [{ type: 'and', operands: [a, b] }, c] });
    expect(shape('not a == 1 and b == 2')).toEqual({ type: 'and', operands: [{ type: 'not', operand: a }, b] });
    expect(shape('not (a == 1 and b == 2)')).toEqual({ type: 'not', operand: { type: 'and', operands: [a, b] } });
    expect(shape('(a == 1 or b == 2) and c == 3')).toEqual({ type: 'and', operands: [{ type: 'or', operands: [a, b] }, c] });
    expect(shape('not not a == 1')).toEqual({ type: 'not', operand: { type: 'not', operand: a } });
  });

  it('treats & and | as and/or with Python operator precedence, as tiledbsoma does', () => {
    const a = cmp('a', '==', num(1));
    const b = cmp('b', '==', num(2));
    const c = cmp('c', '==', num(3));
    // tiledbsoma form: parenthesized comparisons joined by & and |.
    expect(shape('(a == 1) & (b == 2) | (c == 3)')).toEqual({ type: 'or', operands: [{ type: 'and', operands: [a, b] }, c] });
    expect(shape('(a == 1) | (b == 2) & (c == 3)')).toEqual({ type: 'or', operands: [a, { type: 'and', operands: [b, c] }] });
    // In Python `|` binds tighter than `and`: a and (b | c).
    expect(shape('a == 1 and b == 2 | c == 3')).toEqual({ type: 'and', operands: [a, { type: 'or', operands: [b, c] }] });
    // ... and tighter than `not`: not (a & b).
    expect(shape('not a == 1 & b == 2')).toEqual({ type: 'not', operand: { type: 'and', operands: [a, b] } });
    // Unparenthesized comparisons around & are accepted (pandas style).
    expect(shape('a == 1 & b == 2')).toEqual({ type: 'and', operands: [a, b] });
  });

  it('parses in / not in with [..] and (..) lists, trailing commas and mixed literals', () => {
    expect(shape('x in ["a", \'b\']')).toEqual({ type: 'in', column: col('x'), negated: false, values: [str('a'), str('b')] });
    expect(shape('x not in (1, -2.5, 3,)')).toEqual({ type: 'in', column: col('x'), negated: true, values: [num(1), num(-2.5, null), num(3)] });
    expect(shape('x in ("only")')).toEqual({ type: 'in', column: col('x'), negated: false, values: [str('only')] });
    expect(shape('not x in [1]')).toEqual({ type: 'not', operand: { type: 'in', column: col('x'), negated: false, values: [num(1)] } });
  });

  it('reads column names from identifiers, attr("..."), backticks and unicode identifiers', () => {
    expect(shape('attr("cell type") == "x"')).toEqual(cmp('cell type', '==', str('x')));
    expect(shape("attr('orig.ident') in ['a']")).toEqual({ type: 'in', column: col('orig.ident'), negated: false, values: [str('a')] });
    expect(shape('`n genes` > 1')).toEqual(cmp('n genes', '>', num(1)));
    expect(shape('größe >= 2')).toEqual(cmp('größe', '>=', num(2)));
    expect(shape('_private2 == 1')).toEqual(cmp('_private2', '==', num(1)));
  });

  it('decodes string literals with Python escapes', () => {
    const value = (text: string) => (parseValueFilter(`x == ${text}`).root as { value: FilterLiteral }).value.value;
    expect(value(`"B cell"`)).toBe('B cell');
    expect(value(`'it\\'s'`)).toBe("it's");
    expect(value(`"say \\"hi\\""`)).toBe('say "hi"');
    expect(value(`"tab\\there\\nnewline\\\\"`)).toBe('tab\there\nnewline\\');
    expect(value(`"\\x41\\u00e9\\U0001F9EC\\101"`)).toBe('Aé🧬A');
    expect(value(`"\\d stays"`)).toBe('\\d stays');
    expect(value(`r"\\d\\n"`)).toBe('\\d\\n');
    expect(value(`u"细胞 🧬"`)).toBe('细胞 🧬');
    expect(value(`"'single' inside"`)).toBe("'single' inside");
    expect(value(`''`)).toBe('');
  });

  it('reads ints, floats, exponents, signs, underscores, hex and booleans', () => {
    const literal = (text: string) => JSON.parse(JSON.stringify((parseValueFilter(`x == ${text}`).root as { value: FilterLiteral }).value, (k, v) => (k === 'position' ? undefined : typeof v === 'bigint' ? `${v}n` : v)));
    expect(literal('42')).toEqual(num(42));
    expect(literal('-42')).toEqual(num(-42));
    expect(literal('- 7')).toEqual(num(-7));
    expect(literal('+3')).toEqual(num(3));
    expect(literal('1e-3')).toEqual(num(0.001, null));
    expect(literal('-2.5E+2')).toEqual(num(-250, null));
    expect(literal('.5')).toEqual(num(0.5, null));
    expect(literal('5.')).toEqual(num(5, null));
    expect(literal('1_000')).toEqual(num(1000));
    expect(literal('0x1F')).toEqual(num(31));
    expect(literal('-9223372036854775808')).toEqual({ type: 'number', value: -9223372036854775808, exactInteger: '-9223372036854775808n' });
    expect(literal('9007199254740993')).toEqual({ type: 'number', value: 9007199254740992, exactInteger: '9007199254740993n' });
    for (const [text, value] of [['True', true], ['true', true], ['False', false], ['false', false]] as const) {
      expect(literal(text)).toEqual({ type: 'bool', value });
    }
    expect(literal('val(1.0)')).toEqual(num(1, null));
    expect(literal('val(-3)')).toEqual(num(-3));
    expect(literal('val("s")')).toEqual(str('s'));
  });

  it('parses isna/notna (and pandas aliases) and a bare bool column as conditions', () => {
    expect(shape('isna(x)')).toEqual({ type: 'isna', column: col('x'), negated: false });
    expect(shape('notna(attr("a b"))')).toEqual({ type: 'isna', column: col('a b'), negated: true });
    expect(shape('isnull(x) or notnull(y)')).toEqual({
      type: 'or',
      operands: [
        { type: 'isna', column: col('x'), negated: false },
        { type: 'isna', column: col('y'), negated: true },
      ],
    });
    expect(shape('not is_doublet')).toEqual({ type: 'not', operand: { type: 'truthy', column: col('is_doublet') } });
  });

  it('lists the columns a filter reads, once each, in order of use', () => {
    expect(filterColumns(parseValueFilter('b > 1 and (a in [1] or isna(b)) and not attr("c d")'))).toEqual(['b', 'a', 'c d']);
  });

  it('tolerates any whitespace, including newlines, between tokens', () => {
    expect(shape('\n  x\t==\n 1  ')).toEqual(cmp('x', '==', num(1)));
  });
});

describe('parseValueFilter groups and/or/not/&/| exactly as Python (hence tiledbsoma) does', () => {
  it('on 300 generated expressions, compared with ast.parse', () => {
    const random = seededRandom(99);
    let leaf = 0;
    const expression = (depth: number): { text: string; isNot: boolean } => {
      if (depth === 0 || random() < 0.25) return { text: random() < 0.5 ? `x${leaf++} == 1` : `(x${leaf++} == 1)`, isNot: false };
      const roll = random();
      if (roll < 0.2) {
        const inner = expression(depth - 1);
        return { text: `not ${inner.text}`, isNot: true };
      }
      const op = ['and', 'or', '&', '|'][Math.floor(random() * 4)]!;
      // Python only accepts & and | between atoms: parenthesize comparisons and `not` terms there.
      const side = () => {
        const e = expression(depth - 1);
        const bare = /^x\d+ == 1$/.test(e.text) || e.isNot || / (and|or) /.test(e.text);
        return (op === '&' || op === '|') && bare ? `(${e.text})` : e.text;
      };
      return { text: `${side()} ${op} ${side()}`, isNot: false };
    };
    const texts = Array.from({ length: 300 }, () => {
      leaf = 0;
      return expression(4).text;
    });

    type Tree = string | { op: string; items: Tree[] };
    const flatten = (op: string, items: Tree[]): Tree => ({ op, items: items.flatMap((t) => (typeof t !== 'string' && t.op === op ? t.items : [t])) });
    const print = (t: Tree): string => (typeof t === 'string' ? t : `(${t.op} ${t.items.map(print).join(' ')})`);
    const ours = (node: FilterNode): Tree => {
      switch (node.type) {
        case 'and':
        case 'or':
          return flatten(node.type, node.operands.map(ours));
        case 'not':
          return { op: 'not', items: [ours(node.operand)] };
        case 'compare':
          return node.column.name;
        default:
          throw new Error(`unexpected ${node.type}`);
      }
    };
    const script = `
import ast, json, sys
def tree(n):
    if isinstance(n, ast.BoolOp):
        return flat('and' if isinstance(n.op, ast.And) else 'or', [tree(v) for v in n.values])
    if isinstance(n, ast.BinOp):
        return flat('and' if isinstance(n.op, ast.BitAnd) else 'or', [tree(n.left), tree(n.right)])
    if isinstance(n, ast.UnaryOp):
        return ('not', [tree(n.operand)])
    return n.left.id
def flat(op, items):
    out = []
    for t in items:
        out.extend(t[1] if isinstance(t, tuple) and t[0] == op else [t])
    return (op, out)
def show(t):
    return t if isinstance(t, str) else '(' + t[0] + ' ' + ' '.join(show(i) for i in t[1]) + ')'
print(json.dumps([show(tree(ast.parse(t, mode='eval').body)) for t in json.load(sys.stdin)]))
`;
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8' })) as string[];
    texts.forEach((text, k) => expect(print(ours(parseValueFilter(text).root)), text).toBe(expected[k]));
    // The sample must exercise mixed operators, not only trivially nested ones.
    expect(texts.filter((t) => /&|\|/.test(t) && / and | or /.test(t)).length).toBeGreaterThan(50);
  });
});

describe('parseValueFilter: errors point at the offending position', () => {
  it('formats the brief example exactly: one sentence, then the filter and a caret', () => {
    const err = thrown(() => parseValueFilter('cell_type == and x'));
    expect(err.code).toBe('bad_filter');
    expect(err.message).toBe("Filter syntax error at position 14: expected a value after '==', found 'and'.\n  cell_type == and x\n               ^");
  });

  const cases: [string, number, string][] = [
    ['x ==', 5, "expected a value after '==', found the end of the filter"],
    ['x == 1 and', 11, "expected a condition after 'and'"],
    ['x == 1 or or y == 2', 11, "expected a condition after 'or'"],
    ['not', 4, "expected a condition after 'not'"],
    ['(x == 1', 8, "missing ')' to close the '(' at position 1"],
    ['x == 1)', 7, "this ')' has no matching '('"],
    ['x == 1 y == 2', 8, "expected 'and' or 'or' before 'y'"],
    ['x == 1 AND y == 2', 8, "write 'and' in lowercase"],
    ['x = 1', 3, "use '==' to test equality"],
    ['x && y', 3, "use 'and' (or '&') to combine conditions"],
    ['x || y', 3, "use 'or' (or '|') to combine conditions"],
    ['~x', 1, "use 'not' to negate a condition"],
    ['x is None', 3, "'is' is not supported"],
    ['x == None', 6, 'None cannot be compared; use isna(column) or notna(column)'],
    ['x == "open', 6, 'this string is never closed'],
    ['x == 1.2.3', 6, "'1.2.3' is not a valid number"],
    ['x == 12abc', 6, "'12abc' is not a valid number"],
    ['x in []', 7, "the list after 'in' is empty"],
    ['x in "abc"', 6, 'expected a list such as ["a", "b"]'],
    ['x in [1, y]', 10, 'list items must be values'],
    ['x in [1 2]', 9, "expected ',' or ']' in the list"],
    ['x in [1, 2', 11, "missing ']' to close the list opened at position 6"],
    ['"a" in x', 1, "the left side of 'in' must be a column name"],
    ['x in [1] == 2', 10, "'in' cannot be chained with other comparisons"],
    ['x == y', 6, 'comparing two columns ("x" == "y") is not supported'],
    ['1 == 2', 1, "'==' compares two values; one side must be a column name"],
    ['5', 1, 'a value on its own is not a condition'],
    ['orig.ident == "a"', 1, 'write column names that contain dots as attr("orig.ident")'],
    ['foo(x) == 1', 1, "unknown function 'foo()'"],
    ['attr(x) == 1', 6, 'attr() takes a quoted column name'],
    ['attr("a", "b") == 1', 9, 'attr() takes exactly one argument'],
    ['isna(1)', 6, 'isna() takes a column name'],
    ['x == "\\xZZ"', 7, "'\\x' must be followed by 2 hex digits"],
    ['(x == 1) == 2', 1, "a condition cannot be compared with '=='"],
    ['x == 1 $', 8, "unexpected character '$'"],
    ['x == -"a"', 7, "expected a number after '-'"],
    ['()', 2, "expected a condition inside '()'"],
  ];
  for (const [text, position, reason] of cases) {
    it(`rejects ${JSON.stringify(text)} at position ${position}`, () => {
      const err = thrown(() => parseValueFilter(text));
      expect(err.code).toBe('bad_filter');
      const [first, line, caret, ...rest] = err.message.split('\n');
      expect(first).toContain(`Filter syntax error at position ${position}: ${reason}`);
      expect(first!.endsWith('.')).toBe(true);
      expect(line).toBe(`  ${text}`);
      expect(caret).toBe(`  ${' '.repeat(position - 1)}^`);
      expect(rest).toEqual([]);
    });
  }

  it('rejects an empty filter with a one-line message', () => {
    for (const text of ['', '   \n ']) {
      const err = thrown(() => parseValueFilter(text));
      expect(err.code).toBe('bad_filter');
      expect(err.message).toBe('The filter is empty; write a condition such as cell_type == "B cell".');
    }
  });

  it('counts positions in characters and shows only the line with the error', () => {
    const err = thrown(() => parseValueFilter('x == "🧬" and\ny =='));
    expect(err.message.split('\n')).toEqual(["Filter syntax error at position 18: expected a value after '==', found the end of the filter.", '  y ==', '      ^']);
  });

  it('keeps the caret on screen for very long filters', () => {
    const text = `${'a == 1 and '.repeat(40)}b == `;
    const [, line, caret] = thrown(() => parseValueFilter(text)).message.split('\n');
    expect(line!.length).toBeLessThanOrEqual(110);
    expect(line!.startsWith('  …')).toBe(true);
    expect(line![caret!.indexOf('^') - 2]).toBe('='); // caret sits just after the last '== '
  });
});

// ---------------------------------------------------------------------------
// Evaluation: every operator on every column kind, NA semantics
// ---------------------------------------------------------------------------

describe('evaluateFilter: the brief example and basic selection', () => {
  it('selects B cells with more than 500 genes', () => {
    expect(rows('cell_type == "B cell" and n_genes > 500')).toEqual([4, 8]);
  });

  it('returns a 0/1 mask with one byte per row', () => {
    const mask = evaluateFilter(parseValueFilter('n_genes > 500'), fixture);
    expect(mask.length).toBe(N);
    expect([...mask]).toEqual(nGenes.map((g) => (g > 500 ? 1 : 0)));
  });
});

describe('evaluateFilter: numeric columns', () => {
  const ops: [string, (x: number, v: number) => boolean][] = [
    ['==', (x, v) => x === v],
    ['!=', (x, v) => x !== v],
    ['<', (x, v) => x < v],
    ['<=', (x, v) => x <= v],
    ['>', (x, v) => x > v],
    ['>=', (x, v) => x >= v],
  ];
  for (const [op, test] of ops) {
    it(`int32 ${op}`, () => {
      for (const v of [500, -3, 0, 2.5, 1e9]) expect(rows(`n_genes ${op} ${v}`)).toEqual(where((i) => test(nGenes[i]!, v)));
    });
    it(`float64 ${op} leaves NaN rows out (even for !=)`, () => {
      for (const v of [5, 0, -1, 7.25]) expect(rows(`pct_mt ${op} ${v}`)).toEqual(where((i) => isNum(pctMt[i]!) && test(pctMt[i]!, v)));
    });
    it(`nullable int16 ${op} leaves masked rows out`, () => {
      expect(rows(`batch ${op} 2`)).toEqual(where((i) => !batchMask[i] && test(batchValues[i]!, 2)));
    });
    it(`int8 (unicode-named) ${op}`, () => {
      expect(rows(`größe ${op} -2`)).toEqual(where((i) => test(groesse[i]!, -2)));
    });
  }

  it('compares integer columns with fractional literals exactly', () => {
    expect(rows('n_genes < 2.5')).toEqual(where((i) => nGenes[i]! <= 2));
    expect(rows('n_genes == 2.5')).toEqual([]);
    expect(rows('n_genes != 2.5')).toEqual(where(() => true));
  });

  it('compares float32 columns in float32, so x == 0.1 finds a stored 0.1', () => {
    expect(rows('score32 == 0.1')).toEqual([0, 6]);
    expect(rows('score32 <= 0.1')).toEqual([0, 6, 8, 9]);
    expect(rows('score32 != 0.1')).toEqual(where((i) => i !== 0 && i !== 6 && i !== 5));
    expect(rows('score32 in [0.7, 0.2]')).toEqual([1, 11]);
  });

  it('treats True/False as 1/0 against numbers', () => {
    expect(rows('n_genes == True')).toEqual([]);
    expect(rows('n_genes == False')).toEqual([3]);
    expect(rows('n_genes > true')).toEqual(where((i) => nGenes[i]! > 1));
  });

  it('handles huge literals (±inf after parsing) on every numeric kind', () => {
    expect(rows('n_genes < 1e400')).toEqual(where(() => true));
    expect(rows('umis < 1e400')).toEqual(where(() => true));
    expect(rows('umis > -1e400')).toEqual(where(() => true));
    expect(rows('umis == 1e400')).toEqual([]);
    expect(rows('pct_mt < 1e400')).toEqual(where((i) => isNum(pctMt[i]!)));
  });
});

describe('evaluateFilter: int64 / uint64 columns compare exactly', () => {
  it('distinguishes 2^53 from 2^53 + 1', () => {
    expect(rows('umis == 9007199254740993')).toEqual([3, 8]);
    expect(rows('umis == 9007199254740992')).toEqual([2]);
    expect(rows('umis > 9007199254740992')).toEqual([3, 5, 8]);
    expect(rows('umis >= 9007199254740993')).toEqual([3, 5, 8]);
    expect(rows('umis != 9007199254740993')).toEqual(where((i) => i !== 3 && i !== 8));
  });

  it('handles the int64 extremes and negative values', () => {
    expect(rows('umis == -9223372036854775808')).toEqual([4]);
    expect(rows('umis == 9223372036854775807')).toEqual([5]);
    expect(rows('umis < -9007199254740992')).toEqual([4, 10]);
    expect(rows('umis <= -5')).toEqual([4, 6, 10]);
    expect(rows('umis > 9223372036854775807')).toEqual([]);
    expect(rows('umis < 9223372036854775808')).toEqual(where(() => true));
    expect(rows('umis >= -9223372036854775809')).toEqual(where(() => true));
    expect(rows('-10 < umis < 50')).toEqual(where((i) => umis[i]! > -10n && umis[i]! < 50n));
  });

  it('rounds fractional literals the right way', () => {
    expect(rows('umis < 1.5')).toEqual(where((i) => umis[i]! <= 1n));
    expect(rows('umis > 1.5')).toEqual(where((i) => umis[i]! >= 2n));
    expect(rows('umis == 1.5')).toEqual([]);
    expect(rows('umis == 42.0')).toEqual([9]);
    expect(rows('umis >= -5.5')).toEqual(where((i) => umis[i]! >= -5n));
  });

  it('evaluates uint64 including values above 2^63', () => {
    expect(rows('uid == 18446744073709551615')).toEqual([1]);
    expect(rows('uid >= 9223372036854775808')).toEqual([1, 2]);
    expect(rows('uid > 4294967295')).toEqual(where((i) => uid[i]! > 4294967295n));
    expect(rows('uid < 0')).toEqual([]);
    expect(rows('uid >= -1')).toEqual(where(() => true));
  });

  it('supports in / not in on 64-bit columns, small and huge values', () => {
    expect(rows('umis in [9007199254740993, 42, -9223372036854775808, 3.5]')).toEqual([3, 4, 8, 9]);
    expect(rows('umis not in [0, 1, 7]')).toEqual(where((i) => ![0n, 1n, 7n].includes(umis[i]!)));
    expect(rows('uid in [18446744073709551615, 4294967296, 0]')).toEqual([0, 1, 4, 10]);
    expect(rows('umis in [9007199254740992.0]')).toEqual([2]);
    expect(rows('umis in [-9007199254740993]')).toEqual([10]);
  });
});

describe('evaluateFilter: bool columns', () => {
  it('compares with True/False and 1/0', () => {
    const doublets = where((i) => isDoublet[i] === 1);
    const singlets = where((i) => isDoublet[i] === 0);
    expect(rows('is_doublet == True')).toEqual(doublets);
    expect(rows('is_doublet == true')).toEqual(doublets);
    expect(rows('is_doublet == 1')).toEqual(doublets);
    expect(rows('is_doublet != True')).toEqual(singlets);
    expect(rows('is_doublet == False')).toEqual(singlets);
    expect(rows('is_doublet == 0')).toEqual(singlets);
    expect(rows('is_doublet')).toEqual(doublets);
    expect(rows('not is_doublet')).toEqual(singlets);
    expect(rows('is_doublet in [True]')).toEqual(doublets);
  });

  it('leaves masked rows of nullable bools out of every comparison', () => {
    expect(rows('flag == True')).toEqual(where((i) => !flagMask[i] && flagValues[i] === 1));
    expect(rows('flag != True')).toEqual(where((i) => !flagMask[i] && flagValues[i] === 0));
    expect(rows('flag')).toEqual(where((i) => !flagMask[i] && flagValues[i] === 1));
    expect(rows('not flag')).toEqual(where((i) => !flagMask[i] && flagValues[i] === 0));
    expect(rows('flag not in [False]')).toEqual(where((i) => !flagMask[i] && flagValues[i] === 1));
    expect(rows('isna(flag)')).toEqual([2, 5, 9]);
  });
});

describe('evaluateFilter: string columns', () => {
  it('compares plain strings (null entries are missing)', () => {
    expect(rows('barcode == "AAAC"')).toEqual([0, 11]);
    expect(rows('barcode != "AAAC"')).toEqual(where((i) => barcode[i] !== null && barcode[i] !== 'AAAC'));
    expect(rows('barcode == ""')).toEqual([10]);
    expect(rows('barcode in ["z", "b", "nope"]')).toEqual([3, 5]);
    expect(rows('barcode not in ["z", "b"]')).toEqual(where((i) => barcode[i] !== null && !['z', 'b'].includes(barcode[i]!)));
    expect(rows('isna(barcode)')).toEqual([2]);
  });

  it('orders strings by Unicode code point, as Python does', () => {
    const byCodePoint = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0)!);
      const y = [...b].map((c) => c.codePointAt(0)!);
      for (let k = 0; k < Math.min(x.length, y.length); k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
      return x.length - y.length;
    };
    for (const [op, test] of [
      ['<', (c: number) => c < 0],
      ['<=', (c: number) => c <= 0],
      ['>', (c: number) => c > 0],
      ['>=', (c: number) => c >= 0],
    ] as const) {
      for (const v of ['AAAD', 'a', '\uE000', 'Ä', '', '🧬']) {
        expect(rows(`barcode ${op} ${JSON.stringify(v)}`)).toEqual(where((i) => barcode[i] !== null && test(byCodePoint(barcode[i]!, v))));
      }
    }
    // UTF-16 order would put the emoji (a surrogate pair) before U+E000; code points do not.
    expect(rows('barcode < "\\uE000"')).not.toContain(7);
    expect(rows('barcode > "\\uE000"')).toEqual([7]);
    expect(compareCodePoints('🧬', '\uE000')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('same', 'same')).toBe(0);
  });

  it('matches unicode values exactly', () => {
    expect(rows('barcode == "細胞"')).toEqual([6]);
    expect(rows('barcode == "\\u7d30\\u80de"')).toEqual([6]);
    expect(rows("barcode in ['🧬x', 'Ä']")).toEqual([4, 7]);
    // No normalization: a decomposed A + combining diaeresis is a different string.
    expect(rows('barcode == "A\\u0308"')).toEqual([]);
  });

  it('reads columns with spaces through attr() and backticks', () => {
    const ab = where((i) => spaced[i] === 'a b');
    expect(rows('attr("cell type") == "a b"')).toEqual(ab);
    expect(rows("attr('cell type') in ['a b']")).toEqual(ab);
    expect(rows('`cell type` == "a b"')).toEqual(ab);
    expect(rows('"a b" != attr("cell type")')).toEqual(where((i) => spaced[i] !== 'a b'));
  });

  it('leaves masked rows of nullable strings out', () => {
    expect(rows('donor == "D2"')).toEqual(where((i) => !donorMask[i] && donorValues[i] === 'D2'));
    expect(rows('donor != "D2"')).toEqual(where((i) => !donorMask[i] && donorValues[i] !== 'D2'));
    expect(rows('donor < "D2"')).toEqual(where((i) => !donorMask[i] && donorValues[i]! < 'D2'));
    expect(rows('donor not in ["D1"]')).toEqual(where((i) => !donorMask[i] && donorValues[i] !== 'D1'));
    expect(rows('notna(donor)')).toEqual(where((i) => !donorMask[i]));
  });
});

describe('evaluateFilter: categorical columns compare by value', () => {
  it('selects by category value; code −1 is missing', () => {
    for (const cat of cellTypeCats) {
      expect(rows(`cell_type == ${JSON.stringify(cat)}`)).toEqual(where((i) => cellType(i) === cat));
      expect(rows(`cell_type != ${JSON.stringify(cat)}`)).toEqual(where((i) => cellType(i) !== null && cellType(i) !== cat));
    }
    expect(rows('cell_type == "not a category"')).toEqual([]);
    expect(rows('cell_type != "not a category"')).toEqual(where((i) => cellType(i) !== null));
    expect(rows('cell_type in ["NK", "Mono", "absent"]')).toEqual([3, 5, 9, 10]);
    expect(rows('cell_type not in ["NK", "Mono"]')).toEqual([0, 1, 4, 6, 8, 11]);
    expect(rows('isna(cell_type)')).toEqual([2, 7]);
    expect(rows('notna(cell_type)')).toEqual(where((i) => i !== 2 && i !== 7));
  });

  it('orders string categories lexicographically by value, not by category order', () => {
    // Category order is early < mid < late, but values compare as text: early < late < mid.
    expect(rows('stage < "late"')).toEqual(where((i) => stageCodes[i] === 0));
    expect(rows('stage > "late"')).toEqual(where((i) => stageCodes[i] === 1));
    expect(rows('stage >= "l"')).toEqual(where((i) => stageCodes[i] === 1 || stageCodes[i] === 2));
    expect(rows('"f" < stage <= "m"')).toEqual(where((i) => stageCodes[i] === 2));
    expect(rows('cell_type < "C"')).toEqual(where((i) => cellType(i) === 'B cell'));
  });

  it('compares numeric categories numerically', () => {
    const dose = (i: number) => (doseCodes[i]! < 0 ? null : doseCats[doseCodes[i]!]!);
    expect(rows('dose < 2')).toEqual(where((i) => dose(i) !== null && dose(i)! < 2));
    expect(rows('dose == 10')).toEqual(where((i) => dose(i) === 10));
    expect(rows('dose >= 1.0')).toEqual(where((i) => dose(i) !== null && dose(i)! >= 1));
    expect(rows('dose != 0.5')).toEqual(where((i) => dose(i) !== null && dose(i) !== 0.5));
    expect(rows('dose in [0.5, 10]')).toEqual(where((i) => dose(i) === 0.5 || dose(i) === 10));
    expect(rows('isna(dose)')).toEqual([3, 7]);
  });

  it('evaluates each category once instead of comparing strings per row', () => {
    let reads = 0;
    const categories = new Proxy([...cellTypeCats], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const n = 10_000;
    const codes = new Int32Array(n).map((_, i) => (i % 5) - 1);
    const table = tableOf(new Map<string, Column>([['cell_type', { kind: 'category', codes, categories: { kind: 'string', values: categories }, ordered: false }]]));
    expect(rows('cell_type == "NK" or cell_type < "C" or cell_type in ["Mono"]', table).length).toBe(n * 0.6);
    expect(reads).toBeLessThanOrEqual(3 * cellTypeCats.length);
  });
});

describe('evaluateFilter: missing values use SQL three-valued logic', () => {
  // pct_mt is NaN in rows 1 and 5.
  it('fails every comparison, including != and not in', () => {
    for (const text of ['pct_mt == 5', 'pct_mt != 5', 'pct_mt < 100', 'pct_mt >= -100', 'pct_mt in [5, 0.5]', 'pct_mt not in [5]']) {
      const selected = rows(text);
      expect(selected).not.toContain(1);
      expect(selected).not.toContain(5);
    }
  });

  it('keeps not(...) of an unknown comparison unknown', () => {
    expect(rows('not (pct_mt == 5)')).toEqual(where((i) => isNum(pctMt[i]!) && pctMt[i] !== 5));
    expect(rows('not pct_mt > 1')).toEqual(where((i) => isNum(pctMt[i]!) && pctMt[i]! <= 1));
    expect(rows('not (cell_type == "NK")')).toEqual(where((i) => cellType(i) !== null && cellType(i) !== 'NK'));
    expect(rows('not not (pct_mt == 5)')).toEqual(rows('pct_mt == 5'));
  });

  it('follows the SQL truth tables for and/or with unknown', () => {
    // unknown or true = true: NaN rows with n_genes > 500 are selected.
    expect(rows('pct_mt > 3 or n_genes > 500')).toEqual(where((i) => (isNum(pctMt[i]!) && pctMt[i]! > 3) || nGenes[i]! > 500));
    // unknown and false = false, so its negation is true: row 5 (NaN, n_genes 501) is selected, row 1 (NaN, 600) too.
    expect(rows('not (pct_mt > 3 and n_genes < 0)')).toEqual(where(() => true).filter((i) => !(isNum(pctMt[i]!) && pctMt[i]! > 3 && nGenes[i]! < 0)));
    // unknown and true = unknown: neither it nor its negation selects the NaN rows.
    expect(rows('pct_mt > 3 and n_genes > 0')).not.toContain(1);
    expect(rows('not (pct_mt > 3 and n_genes > 0)')).not.toContain(1);
    // unknown or false = unknown.
    expect(rows('not (pct_mt > 3 or n_genes < 0)')).toEqual(where((i) => isNum(pctMt[i]!) && pctMt[i]! <= 3 && nGenes[i]! >= 0));
  });

  it('lets isna/notna select or drop missing rows for every column kind', () => {
    const expectations: [string, number[]][] = [
      ['pct_mt', [1, 5]],
      ['score32', [5]],
      ['n_genes', []],
      ['umis', []],
      ['is_doublet', []],
      ['flag', [2, 5, 9]],
      ['batch', [0, 4, 8]],
      ['barcode', [2]],
      ['donor', [3, 7]],
      ['cell_type', [2, 7]],
      ['dose', [3, 7]],
      ['stage', [9]],
    ];
    for (const [name, missing] of expectations) {
      expect(rows(`isna(${name})`)).toEqual(missing);
      expect(rows(`notna(${name})`)).toEqual(where((i) => !missing.includes(i)));
      expect(rows(`not isna(${name})`)).toEqual(where((i) => !missing.includes(i)));
    }
    expect(rows('pct_mt != 5 or isna(pct_mt)')).toEqual(where((i) => pctMt[i] !== 5));
  });
});

describe('evaluateFilter: large in-lists', () => {
  const n = 50_000;
  const barcodes = Array.from({ length: n }, (_, i) => `cell_${i}`);
  const ints = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 100_003);
  const longs = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n - 7n);
  const cats = Array.from({ length: 30_000 }, (_, i) => `type_${i}`);
  const codes = Int32Array.from({ length: n }, (_, i) => (i % 30_001) - 1);
  const big = tableOf(
    new Map<string, Column>([
      ['barcode', { kind: 'string', values: barcodes }],
      ['n', { kind: 'numeric', dtype: 'int32', values: ints }],
      ['long', { kind: 'numeric', dtype: 'int64', values: longs }],
      ['type', { kind: 'category', codes, categories: { kind: 'string', values: cats }, ordered: false }],
    ]),
  );

  it('matches 20,000 strings against a plain string column', () => {
    const wanted = Array.from({ length: 20_000 }, (_, k) => `cell_${k * 3}`);
    const set = new Set(wanted);
    expect(rows(`barcode in [${wanted.map((w) => JSON.stringify(w)).join(', ')}]`, big)).toEqual(where((i) => set.has(barcodes[i]!), n));
    expect(rows(`barcode not in [${wanted.map((w) => JSON.stringify(w)).join(', ')}]`, big)).toEqual(where((i) => !set.has(barcodes[i]!), n));
  });

  it('matches 10,000 values against int32 and int64 columns', () => {
    const wanted = Array.from({ length: 10_000 }, (_, k) => k * 11);
    const set = new Set(wanted);
    expect(rows(`n in [${wanted.join(',')}]`, big)).toEqual(where((i) => set.has(ints[i]!), n));
    const wantedLongs = Array.from({ length: 10_000 }, (_, k) => BigInt(k * 2) * 1_000_000_007n - 7n);
    const longSet = new Set(wantedLongs);
    expect(rows(`long in [${wantedLongs.join(',')}]`, big)).toEqual(where((i) => longSet.has(longs[i]!), n));
  });

  it('maps a 12,000-value list onto category codes', () => {
    const wanted = Array.from({ length: 12_000 }, (_, k) => `type_${k * 2}`);
    const set = new Set(wanted);
    const category = (i: number) => (codes[i]! < 0 ? null : cats[codes[i]!]!);
    expect(rows(`type in [${wanted.map((w) => `'${w}'`).join(',')}]`, big)).toEqual(where((i) => category(i) !== null && set.has(category(i)!), n));
    expect(rows(`type not in [${wanted.map((w) => `'${w}'`).join(',')}]`, big)).toEqual(where((i) => category(i) !== null && !set.has(category(i)!), n));
  });
});

// ---------------------------------------------------------------------------
// Evaluation errors
// ---------------------------------------------------------------------------

describe('evaluateFilter: errors', () => {
  const evaluate = (text: string) => evaluateFilter(parseValueFilter(text), fixture);

  it('names an unknown column, suggests the closest one and points at it', () => {
    const err = thrown(() => evaluate('n_genes > 5 and celltype == "B cell"'));
    expect(err.code).toBe('unknown_column');
    const [first, line, caret] = err.message.split('\n');
    expect(first).toBe(`Unknown column "celltype" in filter (did you mean "cell_type"?); available: ${[...fixtureColumns().keys()].join(', ')}.`);
    expect(line).toBe('  n_genes > 5 and celltype == "B cell"');
    expect(caret).toBe(`  ${' '.repeat(16)}^`);
  });

  it('suggests across case and punctuation, and not at all for unrelated names', () => {
    expect(thrown(() => evaluate('CellType == "x"')).message).toContain('(did you mean "cell_type"?)');
    expect(thrown(() => evaluate('attr("n genes") > 1')).message).toContain('(did you mean "n_genes"?)');
    const unrelated = thrown(() => evaluate('mitochondrial_fraction > 1')).message.split('\n')[0]!;
    expect(unrelated).toMatch(/^Unknown column "mitochondrial_fraction" in filter; available: /);
  });

  it('reports the first unknown column in the filter, even inside isna()', () => {
    expect(thrown(() => evaluate('isna(pctmt) or bogus == 1')).message).toMatch(/^Unknown column "pctmt" in filter \(did you mean "pct_mt"\?\)/);
  });

  it('does not mistake object prototype names for columns', () => {
    const objectBacked: FilterTable = {
      nRows: N,
      column: (name) => ({} as Record<string, Column>)[name],
      columnNames: ['x'],
    };
    expect(thrown(() => evaluateFilter(parseValueFilter('constructor == 1'), objectBacked)).code).toBe('unknown_column');
  });

  const typeErrors: [string, string, number][] = [
    ['n_genes > "500"', 'Column "n_genes" holds int32 numbers, so it cannot be compared with the string "500"; remove the quotes to compare numbers.', 11],
    ['barcode == 5', 'Column "barcode" holds text, so it cannot be compared with the number 5; quote the value ("5") to compare it as text.', 12],
    ['cell_type == 1', 'Column "cell_type" holds categories of text, so it cannot be compared with the number 1; quote the value ("1") to compare it as text.', 14],
    ['dose == "1"', 'Column "dose" holds categories of float64 numbers, so it cannot be compared with the string "1"; remove the quotes to compare numbers.', 9],
    ['is_doublet == "True"', 'Column "is_doublet" holds true/false values, so it cannot be compared with the string "True"; use True or False without quotes.', 15],
    ['donor in ["D1", 2]', 'Column "donor" holds text, so it cannot be compared with the number 2; quote the value ("2") to compare it as text.', 17],
    ['umis in [1, "x"]', 'Column "umis" holds int64 numbers, so it cannot be compared with the string "x".', 13],
    ['barcode == 9007199254740993', 'Column "barcode" holds text, so it cannot be compared with the number 9007199254740993; quote the value ("9007199254740993") to compare it as text.', 12],
    ['barcode > True', 'Column "barcode" holds text, so it cannot be compared with the value True; quote the value ("True") to compare it as text.', 11],
  ];
  for (const [text, message, position] of typeErrors) {
    it(`rejects the type mismatch in ${text}`, () => {
      const err = thrown(() => evaluate(text));
      expect(err.code).toBe('bad_filter');
      const [first, , caret] = err.message.split('\n');
      expect(first).toBe(message);
      expect(caret).toBe(`  ${' '.repeat(position - 1)}^`);
    });
  }

  it('rejects a non-bool column used as a bare condition', () => {
    const err = thrown(() => evaluate('n_genes and is_doublet'));
    expect(err.code).toBe('bad_filter');
    expect(err.message.split('\n')[0]).toBe('Column "n_genes" holds int32 numbers, not true/false values, so it cannot stand alone as a condition; compare it with a value, e.g. n_genes == ...');
  });

  it('rejects a column whose length disagrees with the table', () => {
    const table: FilterTable = { nRows: 3, column: () => ({ kind: 'numeric', dtype: 'int32', values: new Int32Array(4) }), columnNames: ['x'] };
    const err = thrown(() => evaluateFilter(parseValueFilter('x > 1'), table));
    expect(err.code).toBe('shape_mismatch');
    expect(err.message).toBe('Column "x" has 4 values but the table has 3 rows.');
  });
});

describe('selectedRows', () => {
  it('lists set positions in order, treating any non-zero byte as set', () => {
    expect([...selectedRows(Uint8Array.from([0, 1, 0, 0, 7, 1, 0]))]).toEqual([1, 4, 5]);
    expect([...selectedRows(new Uint8Array(0))]).toEqual([]);
    expect([...selectedRows(new Uint8Array(5))]).toEqual([]);
    expect(selectedRows(new Uint8Array(3).fill(1))).toEqual(Uint32Array.from([0, 1, 2]));
  });

  it('works on masks of any length and offset, including ones not a multiple of four', () => {
    for (const n of [1, 3, 4, 5, 1001]) {
      const mask = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
      expect([...selectedRows(mask)]).toEqual(where((i) => i % 3 === 0, n));
      for (const offset of [1, 4]) {
        const shifted = new Uint8Array(new ArrayBuffer(n + 8), offset, n);
        shifted.set(mask);
        expect([...selectedRows(shifted)]).toEqual(where((i) => i % 3 === 0, n));
      }
    }
  });
});

// ---------------------------------------------------------------------------
// Differential check: random filters vs. a plain row-by-row reference evaluator
// ---------------------------------------------------------------------------

type Cell = number | bigint | string | null;

/** A row's value as plain JS; null when missing. */
function cellOf(column: Column, i: number): Cell {
  switch (column.kind) {
    case 'numeric': {
      const v = column.values[i]!;
      return typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    case 'bool':
      return column.values[i]!;
    case 'nullable-int':
    case 'nullable-bool':
      return column.mask[i] ? null : column.values[i]!;
    case 'string':
      return column.values[i] ?? null;
    case 'nullable-string':
      return column.mask[i] ? null : column.values[i]!;
    case 'category':
      return column.codes[i]! < 0 ? null : cellOf(column.categories, column.codes[i]!);
  }
}

function isFloat32(column: Column): boolean {
  return (column.kind === 'numeric' && column.dtype === 'float32') || (column.kind === 'category' && isFloat32(column.categories));
}

/** Sign of (cell − literal), computed without the implementation's tricks. */
function referenceOrder(cell: number | bigint | string, literal: FilterLiteral, float32: boolean): number {
  if (typeof cell === 'string') {
    const a = [...cell].map((c) => c.codePointAt(0)!);
    const b = [...(literal.value as string)].map((c) => c.codePointAt(0)!);
    for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) return Math.sign(a[k]! - b[k]!);
    return Math.sign(a.length - b.length);
  }
  const v = literal.type === 'bool' ? (literal.value ? 1 : 0) : (literal.value as number);
  if (typeof cell === 'bigint') {
    if (literal.type === 'number' && literal.exactInteger !== null) return cell < literal.exactInteger ? -1 : cell > literal.exactInteger ? 1 : 0;
    if (!Number.isFinite(v)) return v > 0 ? -1 : 1;
    const floor = BigInt(Math.floor(v));
    if (Number.isInteger(v)) return cell < floor ? -1 : cell > floor ? 1 : 0;
    return cell <= floor ? -1 : 1;
  }
  const target = float32 ? Math.fround(v) : v;
  return cell < target ? -1 : cell > target ? 1 : 0;
}

function referenceEvaluate(node: FilterNode, table: FilterTable, i: number): boolean | null {
  switch (node.type) {
    case 'and': {
      const values = node.operands.map((operand) => referenceEvaluate(operand, table, i));
      return values.includes(false) ? false : values.includes(null) ? null : true;
    }
    case 'or': {
      const values = node.operands.map((operand) => referenceEvaluate(operand, table, i));
      return values.includes(true) ? true : values.includes(null) ? null : false;
    }
    case 'not': {
      const value = referenceEvaluate(node.operand, table, i);
      return value === null ? null : !value;
    }
    case 'isna': {
      const missing = cellOf(table.column(node.column.name)!, i) === null;
      return node.negated ? !missing : missing;
    }
    case 'truthy': {
      const cell = cellOf(table.column(node.column.name)!, i);
      return cell === null ? null : cell === 1;
    }
    case 'compare': {
      const column = table.column(node.column.name)!;
      const cell = cellOf(column, i);
      if (cell === null) return null;
      const order = referenceOrder(cell, node.value, isFloat32(column));
      return { '==': order === 0, '!=': order !== 0, '<': order < 0, '<=': order <= 0, '>': order > 0, '>=': order >= 0 }[node.op];
    }
    case 'in': {
      const column = table.column(node.column.name)!;
      const cell = cellOf(column, i);
      if (cell === null) return null;
      const found = node.values.some((literal) => referenceOrder(cell, literal, isFloat32(column)) === 0);
      return node.negated ? !found : found;
    }
  }
}

describe('evaluateFilter agrees with a row-by-row reference on random filters', () => {
  const random = seededRandom(20240611);
  const n = 257;
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const words = ['B cell', 'T cell', 'NK', 'Mono', 'Ä', '細胞', '🧬', '\uE000', 'a"q', "b'q", ''];

  const columns = new Map<string, Column>();
  columns.set('cat', { kind: 'category', codes: Int32Array.from({ length: n }, () => Math.floor(random() * 7) - 1), categories: { kind: 'string', values: words.slice(0, 6) }, ordered: false });
  columns.set('numcat', { kind: 'category', codes: Int32Array.from({ length: n }, () => Math.floor(random() * 5) - 1), categories: { kind: 'numeric', dtype: 'float32', values: Float32Array.from([0.1, 1, 2.5, -3]) }, ordered: false });
  columns.set('i32', { kind: 'numeric', dtype: 'int32', values: Int32Array.from({ length: n }, () => Math.floor(random() * 21) - 10) });
  columns.set('u16', { kind: 'numeric', dtype: 'uint16', values: Uint16Array.from({ length: n }, () => Math.floor(random() * 65536)) });
  columns.set('f64', { kind: 'numeric', dtype: 'float64', values: Float64Array.from({ length: n }, () => (chance(0.15) ? NaN : Math.round(random() * 40 - 20) / 4)) });
  columns.set('f32', { kind: 'numeric', dtype: 'float32', values: Float32Array.from({ length: n }, () => (chance(0.1) ? NaN : pick([0.1, 0.2, 0.3, 1e-3, -2.5, 7]))) });
  columns.set('i64', { kind: 'numeric', dtype: 'int64', values: BigInt64Array.from({ length: n }, () => pick([0n, 1n, -1n, TWO53, TWO53 + 1n, -TWO53 - 1n, INT64_MIN, INT64_MAX, 123456789012n])) });
  columns.set('u64', { kind: 'numeric', dtype: 'uint64', values: BigUint64Array.from({ length: n }, () => pick([0n, 1n, TWO53 + 1n, 2n ** 63n, UINT64_MAX, 4294967296n])) });
  columns.set('b', { kind: 'bool', values: Uint8Array.from({ length: n }, () => (chance(0.4) ? 1 : 0)) });
  columns.set('nb', { kind: 'nullable-bool', values: Uint8Array.from({ length: n }, () => (chance(0.5) ? 1 : 0)), mask: Uint8Array.from({ length: n }, () => (chance(0.2) ? 1 : 0)) });
  columns.set('ni', { kind: 'nullable-int', dtype: 'int64', values: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 9) - 4)), mask: Uint8Array.from({ length: n }, () => (chance(0.2) ? 1 : 0)) });
  columns.set('s', { kind: 'string', values: Array.from({ length: n }, () => (chance(0.1) ? null : pick(words))) });
  columns.set('ns', { kind: 'nullable-string', values: Array.from({ length: n }, () => pick(words)), mask: Uint8Array.from({ length: n }, () => (chance(0.2) ? 1 : 0)) });
  columns.set('with space', { kind: 'numeric', dtype: 'int8', values: Int8Array.from({ length: n }, () => Math.floor(random() * 7) - 3) });
  const table = tableOf(columns);

  const refOf = (name: string) => (name === 'with space' ? pick(['attr("with space")', '`with space`']) : name);
  const literalFor = (name: string): string => {
    const column = columns.get(name)!;
    const textual = column.kind === 'string' || column.kind === 'nullable-string' || (column.kind === 'category' && column.categories.kind === 'string');
    if (textual) return JSON.stringify(pick(words.concat(['absent', 'B'])));
    if (column.kind === 'bool' || column.kind === 'nullable-bool') return pick(['True', 'False', 'true', '0', '1']);
    if (name === 'i64' || name === 'u64' || name === 'ni') return pick(['0', '1', '-1', '1.5', '-0.5', `${TWO53}`, `${TWO53 + 1n}`, `${-TWO53 - 1n}`, `${INT64_MIN}`, `${INT64_MAX}`, `${UINT64_MAX}`, '123456789012', '4294967296', '1e300']);
    if (name === 'f32' || name === 'numcat') return pick(['0.1', '0.2', '0.3', '1e-3', '-2.5', '7', '2.5', '1', '-3', '0']);
    return pick(['0', '1', '-1', '2.5', '-2.25', '10', '-10', '65535', '3.75', '1e2', '.5', '-0']);
  };
  const comparison = (): string => {
    const name = pick([...columns.keys()]);
    const ref = refOf(name);
    const roll = random();
    if (roll < 0.45) {
      const op = pick(['==', '!=', '<', '<=', '>', '>=']);
      return chance(0.3) ? `${literalFor(name)} ${op} ${ref}` : `${ref} ${op} ${literalFor(name)}`;
    }
    if (roll < 0.6) return `${literalFor(name)} ${pick(['<', '<='])} ${ref} ${pick(['<', '<='])} ${literalFor(name)}`;
    if (roll < 0.8) {
      const items = Array.from({ length: 1 + Math.floor(random() * 4) }, () => literalFor(name));
      const [open, close] = chance(0.5) ? ['[', ']'] : ['(', ')'];
      return `${ref} ${chance(0.5) ? 'in' : 'not in'} ${open}${items.join(', ')}${close}`;
    }
    if (roll < 0.9) return `${pick(['isna', 'notna'])}(${ref})`;
    return pick(['b', 'nb', 'not b', 'not nb']);
  };
  const condition = (depth: number): string => {
    if (depth === 0 || chance(0.35)) return comparison();
    const roll = random();
    if (roll < 0.2) return `not (${condition(depth - 1)})`;
    const op = pick(['and', 'or', '&', '|']);
    const wrap = (text: string) => (op === '&' || op === '|' || chance(0.5) ? `(${text})` : text);
    return `${wrap(condition(depth - 1))} ${op} ${wrap(condition(depth - 1))}`;
  };

  it('on 400 generated filters over every column kind', () => {
    let nonTrivial = 0;
    for (let k = 0; k < 400; k++) {
      const text = condition(3);
      const ast = parseValueFilter(text);
      const actual = [...selectedRows(evaluateFilter(ast, table))];
      const expected = where((i) => referenceEvaluate(ast.root, table, i) === true, n);
      expect(actual, text).toEqual(expected);
      if (expected.length > 0 && expected.length < n) nonTrivial++;
    }
    expect(nonTrivial).toBeGreaterThan(200);
  });
});

// ---------------------------------------------------------------------------
// Cross-check with pandas DataFrame.query on the same data
// ---------------------------------------------------------------------------

describe('evaluateFilter agrees with pandas DataFrame.query', () => {
  it('on a generated 400-row frame', () => {
    const random = seededRandom(7);
    const n = 400;
    const cats = ['B cell', 'T cell', 'NK', 'Mono', 'DC', 'Plasma'];
    const donors = ['D1', 'D2', 'D 3'];
    const cellTypeCodes = Array.from({ length: n }, () => Math.floor(random() * 7) - 1);
    const donorCodes = Array.from({ length: n }, () => Math.floor(random() * 3));
    const genes = Array.from({ length: n }, () => Math.floor(random() * 3000));
    const pct = Array.from({ length: n }, () => (random() < 0.1 ? NaN : Math.round(random() * 2000) / 100));
    const counts = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? TWO53 + BigInt(i % 3) : BigInt(Math.floor(random() * 1e6))));
    const codes = Array.from({ length: n }, (_, i) => `bc${String((i * 7919) % 10007).padStart(5, '0')}`);

    const table = tableOf(
      new Map<string, Column>([
        ['cell_type', { kind: 'category', codes: Int32Array.from(cellTypeCodes), categories: { kind: 'string', values: cats }, ordered: false }],
        ['donor id', { kind: 'category', codes: Int32Array.from(donorCodes), categories: { kind: 'string', values: donors }, ordered: false }],
        ['n_genes', { kind: 'numeric', dtype: 'int32', values: Int32Array.from(genes) }],
        ['pct_mt', { kind: 'numeric', dtype: 'float64', values: Float64Array.from(pct) }],
        ['counts', { kind: 'numeric', dtype: 'int64', values: BigInt64Array.from(counts) }],
        ['barcode', { kind: 'string', values: codes }],
      ]),
    );

    const someBarcodes = codes.filter((_, i) => i % 3 === 0).map((c) => JSON.stringify(c));
    // [our filter, the pandas query that means the same]. pandas treats NaN != x as true,
    // so negations spell out the notna() that SQL semantics imply.
    const pairs: [string, string][] = [
      ['cell_type == "B cell" and n_genes > 500', 'cell_type == "B cell" and n_genes > 500'],
      ['1 < pct_mt <= 5', '1 < pct_mt <= 5'],
      ['cell_type in ["NK", "Mono"] or pct_mt > 15', 'cell_type in ["NK", "Mono"] or pct_mt > 15'],
      ['cell_type != "B cell"', 'cell_type != "B cell" and cell_type.notna()'],
      ['cell_type not in ["NK", "DC"]', 'cell_type not in ["NK", "DC"] and cell_type.notna()'],
      ['not (n_genes > 1000 and pct_mt < 5)', '~((n_genes > 1000) & (pct_mt < 5)) & ~((n_genes > 1000) & pct_mt.isna())'],
      ['(n_genes < 100) | (pct_mt >= 19) & (cell_type == "T cell")', '(n_genes < 100) | ((pct_mt >= 19) & (cell_type == "T cell"))'],
      ['attr("donor id") == "D 3" and barcode < "bc05000"', '`donor id` == "D 3" and barcode < "bc05000"'],
      ['isna(pct_mt) or isna(cell_type)', 'pct_mt.isna() or cell_type.isna()'],
      ['counts == 9007199254740993', 'counts == 9007199254740993'],
      ['counts > 9007199254740992 or counts < 1000', 'counts > 9007199254740992 or counts < 1000'],
      [`barcode in [${someBarcodes.join(', ')}]`, `barcode in [${someBarcodes.join(', ')}]`],
      ['n_genes != 1500 and pct_mt != 3.5', 'n_genes != 1500 and pct_mt != 3.5 and pct_mt.notna()'],
    ];

    const script = `
import json, sys
import numpy as np, pandas as pd
data = json.load(sys.stdin)
df = pd.DataFrame({
    "cell_type": pd.Categorical.from_codes(data["cell_type"], data["cats"]),
    "donor id": pd.Categorical.from_codes(data["donor"], data["donors"]),
    "n_genes": np.array(data["n_genes"], dtype=np.int32),
    "pct_mt": np.array([float(x) for x in data["pct_mt"]], dtype=np.float64),
    "counts": np.array([int(x) for x in data["counts"]], dtype=np.int64),
    "barcode": np.array(data["barcode"], dtype=object),
})
print(json.dumps([df.query(q, engine="python").index.tolist() for q in data["queries"]]))
`;
    const input = JSON.stringify({
      cell_type: cellTypeCodes,
      cats,
      donor: donorCodes,
      donors,
      n_genes: genes,
      pct_mt: pct.map((x) => (Number.isNaN(x) ? 'nan' : String(x))),
      counts: counts.map(String),
      barcode: codes,
      queries: pairs.map(([, pandasQuery]) => pandasQuery),
    });
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input, encoding: 'utf8' })) as number[][];
    pairs.forEach(([ours], k) => {
      expect(rows(ours, table), ours).toEqual(expected[k]);
    });
    // The comparisons must not be trivial.
    for (const result of expected.slice(0, 8)) {
      expect(result.length).toBeGreaterThan(0);
      expect(result.length).toBeLessThan(n);
    }
  });
});

describe('soma_joinid in a filter', () => {
  it("names rows by position, as the store's joinids are, with every comparison", () => {
    const table = tableOf(new Map<string, Column>([['x', { kind: 'numeric', dtype: 'int32', values: Int32Array.from([5, 6, 7, 8, 9]) }]]));
    const rows = (filter: string) => Array.from(selectedRows(evaluateFilter(parseValueFilter(filter), table)));
    expect(rows('soma_joinid in [0, 3, 7]')).toEqual([0, 3]);
    expect(rows('soma_joinid >= 2 and x < 9')).toEqual([2, 3]);
    expect(rows('soma_joinid not in [1]')).toEqual([0, 2, 3, 4]);
  });
  it('prefers a real column of that name', () => {
    const table = tableOf(new Map<string, Column>([['soma_joinid', { kind: 'numeric', dtype: 'int32', values: Int32Array.from([10, 11]) }]]));
    expect(Array.from(selectedRows(evaluateFilter(parseValueFilter('soma_joinid == 11'), table)))).toEqual([1]);
  });
});
