// The HDF5 writer that needs no HDF5 library (writer/hdf5-file.ts, behind uncompressed
// .h5ad exports): every primitive it writes is read back by h5py (HDF5 1.10, Debian) and by
// h5wasm (HDF5 1.14, our reader) with the same values and the same datatypes h5py itself
// uses; its byte encodings match h5py's; what it cannot lay out goes to the HDF5 library.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataFrame } from '../../src/main/engine/columns/column-model';
import { loadH5wasm } from '../../src/main/engine/formats/h5ad/h5';
import { writeH5ad } from '../../src/main/engine/formats/h5ad/writer';
import { DirectOutput } from '../../src/main/engine/formats/h5ad/writer/direct-output';
import { Hdf5File } from '../../src/main/engine/formats/h5ad/writer/hdf5-file';
import { deflatePipelineMessage, encodeDatatype, HeapCollectionBuilder, lookup3, shuffleBytes, MIN_HEAP_COLLECTION_BYTES, superblock, type H5Datatype } from '../../src/main/engine/formats/h5ad/writer/hdf5-format';
import { runPythonJson } from './helpers/python';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-hdf5-direct-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('HDF5 encodings', () => {
  it('encodes datatypes byte for byte as h5py writes them (files with v1.8 bounds)', () => {
    // Bytes of the datatype messages in a file h5py 3.7 wrote with libver=('v108', 'v108').
    const cases: [H5Datatype, string][] = [
      [{ kind: 'float', size: 4 }, '11201f000400000000002000170800177f000000'],
      [{ kind: 'float', size: 8 }, '11203f000800000000004000340b0034ff030000'],
      [{ kind: 'int', size: 4, signed: true }, '100800000400000000002000'],
      [{ kind: 'int', size: 8, signed: true }, '100800000800000000004000'],
      [{ kind: 'vlen-string' }, '1901010010000000100000000100000000000800'],
      [{ kind: 'bool' }, '380200000100000010080000010000000000080046414c53450054525545000001'],
      [
        { kind: 'compound', size: 20, members: [{ name: 'a', offset: 0, type: { kind: 'int', size: 4, signed: true } }, { name: 'n', offset: 4, type: { kind: 'vlen-string' } }] },
        '36020000140000006100001008000004000000000020006e00041901010010000000100000000100000000000800',
      ],
    ];
    for (const [type, expected] of cases) expect(hex(encodeDatatype(type).view()), type.kind).toBe(expected);
  });

  it('encodes the gzip pipeline, with and without the shuffle, as h5py does, and shuffles bytes as the filter does', () => {
    expect(hex(deflatePipelineMessage(1).body)).toBe('020101000100010001000000');
    // h5py: compression='gzip', compression_opts=1, shuffle=True on int32.
    expect(hex(deflatePipelineMessage(1, 4).body)).toBe('02020200010001000400000001000100010001000000');
    expect(Array.from(shuffleBytes(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), 4))).toEqual([1, 5, 2, 6, 3, 7, 4, 8, 9]);
    // Whole aligned 4-byte elements take the word-at-a-time path: the same bytes.
    const words = Uint8Array.from({ length: 4000 }, (_, i) => (i * 37) & 255);
    const planes = shuffleBytes(words, 4);
    expect(Array.from({ length: 4000 }, (_, i) => planes[(i % 4) * 1000 + Math.floor(i / 4)])).toEqual(Array.from(words));
    expect(Array.from(shuffleBytes(Uint8Array.of(1, 2, 3, 4, 5, 6), 2))).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('checksums the superblock as the HDF5 library does', () => {
    // h5py's 48-byte superblock of a 9,287-byte file whose root group header is at 48.
    expect(hex(superblock(9287, 48))).toBe('894844460d0a1a0a020808000000000000000000ffffffffffffffff472400000000000030000000000000000301eb7f');
    expect(lookup3(new TextEncoder().encode('Four score and seven years ago'))).toBe(0x17770551);
  });

  it('pads a heap collection to the 4 KiB the library reads first, the rest marked free', () => {
    const builder = new HeapCollectionBuilder();
    expect(builder.add('anndata')).toEqual({ index: 1, length: 7 });
    expect(builder.add('')).toEqual({ index: 2, length: 0 });
    const collection = Buffer.from(builder.finish());
    expect(collection.length).toBe(MIN_HEAP_COLLECTION_BYTES);
    expect(collection.subarray(0, 16).toString('hex')).toBe('47434f4c010000000010000000000000');
    // Object 1: "anndata" padded to 8 bytes; object 2: empty; then the free space (index 0) with its size.
    expect(collection.readUInt16LE(16)).toBe(1);
    expect(Number(collection.readBigUInt64LE(24))).toBe(7);
    expect(collection.subarray(32, 39).toString()).toBe('anndata');
    expect(collection.readUInt16LE(40)).toBe(2);
    expect(Number(collection.readBigUInt64LE(48))).toBe(0);
    expect(collection.readUInt16LE(56)).toBe(0);
    expect(Number(collection.readBigUInt64LE(64))).toBe(MIN_HEAP_COLLECTION_BYTES - 56);
  });
});

describe('HDF5 files written without the library', () => {
  const many = Array.from({ length: 70_000 }, (_, i) => (i % 7 === 0 ? '' : `cell-${i}-ÿ`));
  const long = 'x'.repeat(1_500_000);
  let path: string;

  beforeAll(async () => {
    path = join(dir, 'every-primitive.h5');
    const file = new Hdf5File(path);
    const out = new DirectOutput(file);
    out.stringAttribute('/', 'encoding-type', 'anndata');
    out.group('/g');
    out.group('/g/nested');
    out.group('/empty');
    out.group('/ünï');
    out.stringArrayAttribute('/g', 'column-order', ['b', 'ä', '']);
    out.stringArrayAttribute('/g', 'none', []);
    out.numericAttribute('/g', 'shape', BigInt64Array.of(3n, 4n), [2]);
    out.numericAttribute('/g', 'scale', Float64Array.of(0.25), []);
    out.boolAttribute('/g', 'ordered', true);
    out.boolAttribute('/g/nested', 'flag', false);
    const numeric = {
      int8: Int8Array.of(-128, 0, 127),
      int16: Int16Array.of(-32768, 1, 32767),
      int32: Int32Array.of(-(2 ** 31), 2, 2 ** 31 - 1),
      int64: BigInt64Array.of(-(2n ** 63n), 3n, 2n ** 63n - 1n),
      uint8: Uint8Array.of(0, 4, 255),
      uint16: Uint16Array.of(0, 5, 65535),
      uint32: Uint32Array.of(0, 6, 2 ** 32 - 1),
      uint64: BigUint64Array.of(0n, 7n, 2n ** 64n - 1n),
      float32: Float32Array.of(-1.5, Number.NaN, Number.POSITIVE_INFINITY),
      float64: Float64Array.of(Math.PI, -0, 1e-300),
    };
    for (const [dtype, values] of Object.entries(numeric)) out.array(`/g/${dtype}`, values, dtype as keyof typeof numeric);
    out.array('/g/matrix', Float64Array.from({ length: 6 }, (_, i) => i + 0.5), 'float64', [2, 3]);
    out.array('/g/scalar', BigInt64Array.of(42n), 'int64', []);
    out.array('/g/empty', new Int32Array(0), 'int32');
    out.array('/g/bools', Uint8Array.of(1, 0, 1), 'bool');
    out.strings('/g/names', ['a', '', 'ünïcödé 😀', long]);
    out.strings('/g/title', ['hello'], []);
    out.strings('/g/many', many);
    out.records('/g/rec', 2, [
      { name: 'n', kind: 'numeric', dtype: 'int32', values: Int32Array.of(1, 2) },
      { name: 's', kind: 'string', values: ['x', 'yy'] },
      { name: 'f', kind: 'numeric', dtype: 'float64', values: Float64Array.of(0.5, 1.5) },
      { name: 't', kind: 'string', values: ['', 'zz'] },
    ]);
    // More string values than a call's arguments may hold (a spread of them would overflow the stack).
    out.records('/g/bigrec', 300_000, [
      { name: 'i', kind: 'numeric', dtype: 'int32', values: Int32Array.from({ length: 300_000 }, (_, i) => i) },
      { name: 's', kind: 'string', values: Array.from({ length: 300_000 }, (_, i) => `r${i}`) },
    ]);
    const exact = out.appendable('/g/exact', 'int32', 10, 5);
    await exact.append(Int32Array.of(1, 2));
    await exact.append(Int32Array.of(3, 4, 5));
    expect(await exact.finish()).toBe(5);
    const spilled = out.appendable('/g/spilled', 'float32', 100);
    const other = out.appendable('/g/spilled-too', 'bool', 100);
    await spilled.append(Float32Array.of(1, 2));
    await other.append(Uint8Array.of(1));
    await spilled.append(Float32Array.of(3));
    await other.append(Uint8Array.of(0, 1));
    await spilled.finish();
    await other.finish();
    const none = out.appendable('/g/nothing', 'int32', 0);
    await none.finish();
    file.close();
  });

  it('leaves no file beside it', () => {
    expect(readdirSync(dir).filter((f) => f.startsWith('every-primitive'))).toEqual(['every-primitive.h5']);
  });

  it('is read by h5py with the values, shapes and datatypes h5py itself writes', () => {
    const info = runPythonJson<Record<string, unknown>>(
      String.raw`
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
g = f['g']
def same_type(d, t):
    return d.id.get_type() == t
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
out = {
  'keys': sorted(f.keys()), 'g_keys': sorted(g.keys()), 'nested': list(f['g/nested'].keys()),
  'root_attr': f.attrs['encoding-type'],
  'column_order': [s(v) for v in g.attrs['column-order']], 'none': [list(g.attrs['none'].shape), str(g.attrs['none'].dtype)],
  'attr_counts': [len(f.attrs), len(g.attrs), h5py.h5a.get_num_attrs(g.id), len(f['g/nested'].attrs), len(f['empty'].attrs), sorted(g.attrs.keys())],
  'shape_attr': g.attrs['shape'].tolist(), 'shape_dtype': str(g.attrs['shape'].dtype), 'scale': float(g.attrs['scale']),
  'ordered': [type(g.attrs['ordered']).__name__, bool(g.attrs['ordered']), bool(f['g/nested'].attrs['flag'])],
  'numeric': {k: [str(g[k].dtype), [repr(x) for x in g[k][()].tolist()]] for k in
              ['int8','int16','int32','int64','uint8','uint16','uint32','uint64','float32','float64']},
  'std_types': [same_type(g['float32'], h5py.h5t.IEEE_F32LE), same_type(g['float64'], h5py.h5t.IEEE_F64LE),
                same_type(g['int64'], h5py.h5t.STD_I64LE), same_type(g['uint16'], h5py.h5t.STD_U16LE)],
  'matrix': g['matrix'][()].tolist(), 'scalar': [int(g['scalar'][()]), list(g['scalar'].shape)],
  'empty': [list(g['empty'].shape), str(g['empty'].dtype), g['empty'][()].tolist()],
  'bools': [str(g['bools'].dtype), g['bools'][()].tolist()],
  'names': [s(v) if len(s(v)) < 100 else len(s(v)) for v in g['names'][()]], 'names_str': [h5py.check_string_dtype(g['names'].dtype).encoding],
  'title': [s(g['title'][()]), list(g['title'].shape)],
  'many': [len(g['many']), s(g['many'][1]), s(g['many'][0]), s(g['many'][69999]), sum(1 for v in g['many'][()] if v == b'')],
  'bigrec': [len(g['bigrec']), int(g['bigrec'][299999]['i']), s(g['bigrec'][299999]['s'])],
  'rec': [[g['rec'].dtype.names], [[int(r['n']), s(r['s']), float(r['f']), s(r['t'])] for r in g['rec'][()]]],
  'exact': [g['exact'][()].tolist(), g['exact'].chunks, g['exact'].maxshape],
  'spilled': [g['spilled'][()].tolist(), str(g['spilled'].dtype), g['spilled'].maxshape, g['spilled'].chunks], 'spilled_too': [g['spilled-too'][()].tolist(), str(g['spilled-too'].dtype)],
  'nothing': [list(g['nothing'].shape), g['nothing'].maxshape],
  'unicode_group': list(f['ünï'].keys()),
}
print(json.dumps(out))
`,
      [path],
      120_000,
    );
    expect(info).toEqual({
      keys: ['empty', 'g', 'ünï'],
      g_keys: ['bigrec', 'bools', 'empty', 'exact', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'many', 'matrix', 'names', 'nested', 'nothing', 'rec', 'scalar', 'spilled', 'spilled-too', 'title', 'uint16', 'uint32', 'uint64', 'uint8'],
      nested: [],
      root_attr: 'anndata',
      column_order: ['b', 'ä', ''],
      none: [[0], 'float64'],
      // Counted as the library counts them (through each header's attribute info message).
      attr_counts: [1, 5, 5, 1, 0, ['column-order', 'none', 'ordered', 'scale', 'shape']],
      shape_attr: [3, 4],
      shape_dtype: 'int64',
      scale: 0.25,
      ordered: ['bool_', true, false],
      numeric: {
        int8: ['int8', ['-128', '0', '127']],
        int16: ['int16', ['-32768', '1', '32767']],
        int32: ['int32', ['-2147483648', '2', '2147483647']],
        int64: ['int64', ['-9223372036854775808', '3', '9223372036854775807']],
        uint8: ['uint8', ['0', '4', '255']],
        uint16: ['uint16', ['0', '5', '65535']],
        uint32: ['uint32', ['0', '6', '4294967295']],
        uint64: ['uint64', ['0', '7', '18446744073709551615']],
        float32: ['float32', ['-1.5', 'nan', 'inf']],
        float64: ['float64', ['3.141592653589793', '-0.0', '1e-300']],
      },
      std_types: [true, true, true, true],
      matrix: [[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]],
      scalar: [42, []],
      empty: [[0], 'int32', []],
      bools: ['bool', [true, false, true]],
      names: ['a', '', 'ünïcödé 😀', 1_500_000],
      names_str: ['utf-8'],
      title: ['hello', []],
      many: [70_000, 'cell-1-ÿ', '', 'cell-69999-ÿ', 10_000],
      bigrec: [300_000, 299_999, 'r299999'],
      rec: [[['n', 's', 'f', 't']], [[1, 'x', 0.5, ''], [2, 'yy', 1.5, 'zz']]],
      // Chunked and resizable whether the length is known (one chunk of its 5 values) or only
      // bounded (a chunk of the bound, 100 values), as anndata writes a sparse matrix's arrays.
      exact: [[1, 2, 3, 4, 5], [5], [null]],
      spilled: [[1, 2, 3], 'float32', [null], [100]],
      spilled_too: [[true, false, true], 'bool'],
      nothing: [[0], [null]],
      unicode_group: [],
    });
  }, 150_000);

  it('is read by h5wasm (a newer HDF5) with the same values', async () => {
    const h5 = await loadH5wasm();
    const f = new h5.File(path, 'r');
    try {
      const get = (p: string) => f.get(p) as InstanceType<typeof h5.Dataset>;
      expect(Array.from(get('g/int32').value as Int32Array)).toEqual([-(2 ** 31), 2, 2 ** 31 - 1]);
      expect(get('g/names').value).toEqual(['a', '', 'ünïcödé 😀', long]);
      const manyValues = get('g/many').value as string[];
      expect(manyValues.length).toBe(70_000);
      expect(manyValues).toEqual(many);
      expect(Array.from(get('g/matrix').value as Float64Array)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
      expect(get('g/matrix').shape).toEqual([2, 3]);
      expect((f.get('g') as InstanceType<typeof h5.Group>).attrs['column-order'].value).toEqual(['b', 'ä', '']);
    } finally {
      f.close();
    }
  });
});

describe('gzip datasets written without the library', () => {
  let path: string;
  const matrix = Float64Array.from({ length: 3000 * 700 }, (_, i) => (i % 13 === 0 ? i / 7 : 0));

  beforeAll(async () => {
    path = join(dir, 'chunked.h5');
    const file = new Hdf5File(path);
    // 5,000 chunks of 2 values: a chunk index three levels deep (64 children a node), stored in reverse order.
    const chunks = file.chunked('/deep', { kind: 'int', size: 4, signed: true }, [2], deflatePipelineMessage(1));
    for (let i = 4999; i >= 0; i--) chunks.add(i, deflateSync(new Uint8Array(Int32Array.of(2 * i, 2 * i + 1).buffer)));
    chunks.finish([9999]);
    const out = new DirectOutput(file, { compression: 'gzip' });
    out.group('/m');
    out.array('/m/dense', matrix, 'float64', [3000, 700]);
    out.array('/m/small', Int32Array.of(1, 2, 3), 'int32');
    out.array('/m/scalar', Float64Array.of(2.5), 'float64', []);
    out.strings('/m/names', ['a', 'b']);
    const exact = out.appendable('/m/exact', 'float32', 600_000, 600_000);
    const bound = out.appendable('/m/bound', 'int32', 1000);
    const empty = out.appendable('/m/empty', 'bool', 10);
    const block = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
    for (let b = 0; b < 600; b++) {
      block[0] = b;
      await exact.append(block);
    }
    await bound.append(Int32Array.of(7, 8, 9));
    await bound.append(Int32Array.of(10));
    expect(await exact.finish()).toBe(600_000);
    expect(await bound.finish()).toBe(4);
    expect(await empty.finish()).toBe(0);
    file.close();
  });

  it('reads back exactly in h5py, whole and sliced, with gzip and the chunks asked for', () => {
    const info = runPythonJson<Record<string, unknown>>(
      String.raw`
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
d = f['deep']
m = f['m/dense'][()]
n, k = 3000, 700
expected = np.where(np.arange(n * k) % 13 == 0, np.arange(n * k) / 7, 0).reshape(n, k)
e = f['m/exact'][()]
block = np.arange(1000, dtype=np.float32) * 0.5
out = {
  'deep': [d.shape[0], d.chunks, d.compression, bool((d[()] == np.arange(9999)).all()), d[4321:4325].tolist(), int(d[9998])],
  'dense': [list(m.shape), f['m/dense'].chunks, f['m/dense'].compression, f['m/dense'].compression_opts, bool((m == expected).all())],
  'small': [f['m/small'][()].tolist(), f['m/small'].compression], 'scalar': [float(f['m/scalar'][()]), f['m/scalar'].compression],
  'names': [v.decode() for v in f['m/names'][()]],
  'exact': [e.shape[0], f['m/exact'].chunks, f['m/exact'].compression, [float(e[b * 1000]) for b in (0, 1, 599)], bool((e.reshape(600, 1000)[:, 1:] == block[1:]).all())],
  'bound': [f['m/bound'][()].tolist(), f['m/bound'].chunks], 'empty': [f['m/empty'].shape[0], str(f['m/empty'].dtype)],
  'shuffled': [f['m/bound'].shuffle, f['m/small'].shuffle, f['m/exact'].shuffle, f['m/dense'].shuffle, d.shuffle],
}
print(json.dumps(out))
`,
      [path],
      120_000,
    );
    expect(info).toEqual({
      deep: [9999, [2], 'gzip', true, [4321, 4322, 4323, 4324], 9998],
      dense: [[3000, 700], [187, 700], 'gzip', 1, true],
      small: [[1, 2, 3], 'gzip'],
      scalar: [2.5, null],
      names: ['a', 'b'],
      // 600,000 float32 values in three equal chunks of at most 1 MiB (not 262,144 + 262,144 + 75,712).
      exact: [600_000, [200_000], 'gzip', [0, 1, 599], true],
      bound: [[7, 8, 9, 10], [1000]],
      empty: [0, 'bool'],
      // Integers shuffled before deflate, floats not.
      shuffled: [true, true, false, false, false],
    });
  }, 150_000);

  it('reads back exactly in h5wasm', async () => {
    const h5 = await loadH5wasm();
    const f = new h5.File(path, 'r');
    try {
      const deep = (f.get('deep') as InstanceType<typeof h5.Dataset>).value as Int32Array;
      expect(deep.length).toBe(9999);
      expect(deep.every((v, i) => v === i)).toBe(true);
      const dense = (f.get('m/dense') as InstanceType<typeof h5.Dataset>).value as Float64Array;
      expect(dense.length).toBe(matrix.length);
      expect(dense.every((v, i) => v === matrix[i])).toBe(true);
    } finally {
      f.close();
    }
  });
});

describe('uncompressed .h5ad through the direct writer', () => {
  it('hands a file to the HDF5 library when an attribute is over 64 KiB, and anndata reads it', async () => {
    // 5,000 obs columns: the column-order attribute holds 5,000 string references (80 kB).
    const n = 5000;
    const obs: DataFrame = {
      indexName: '_index',
      index: ['c1', 'c2'],
      columns: Array.from({ length: n }, (_, i) => ({ name: `col${i}`, column: { kind: 'numeric' as const, dtype: 'float64' as const, values: Float64Array.of(i, i + 0.5) } })),
    };
    const vars: DataFrame = { indexName: '_index', index: ['g1'], columns: [] };
    const path = join(dir, 'wide.h5ad');
    await writeH5ad(path, { obs, var: vars });
    expect(readdirSync(dir).filter((f) => f.startsWith('wide'))).toEqual(['wide.h5ad']);
    const info = runPythonJson<{ n: number; last: string; value: number }>(
      String.raw`
import sys, json, anndata as ad
a = ad.read_h5ad(sys.argv[1])
print(json.dumps({'n': a.obs.shape[1], 'last': str(a.obs.columns[-1]), 'value': float(a.obs['col4999'].iloc[1])}))
`,
      [path],
      120_000,
    );
    expect(info).toEqual({ n, last: 'col4999', value: 4999.5 });
  }, 150_000);

  it('a full disk while gzip chunks are written: the append or finish fails with it, nothing is left unhandled', async () => {
    const path = join(dir, 'full-disk.h5');
    // A file system that takes 200 kB, then refuses with ENOSPC (what a full disk returns).
    let room = 200_000;
    const full = (fd: number, bytes: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number => {
      const n = length ?? bytes.byteLength;
      if (n > room) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      room -= n;
      return writeSync(fd, bytes, offset, n, position);
    };
    const file = new Hdf5File(path, full as typeof writeSync);
    const out = new DirectOutput(file, { compression: 'gzip' });
    const data = out.appendable('/data', 'float32', 4_000_000);
    // Random values barely compress: the chunks' deflated bytes soon fill the 200 kB.
    const block = Float32Array.from({ length: 250_000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
    const err = await (async () => {
      for (let b = 0; b < 16; b++) await data.append(block);
      await data.finish();
    })().catch((e: unknown) => e);
    file.abandon();
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  });

  it('knows a full disk (ENOSPC, EDQUOT) from other write failures', async () => {
    // writeH5ad then says "The disk is full: could not write …" (checked by hand on a 2 MB tmpfs; CI cannot mount one).
    const { isDiskFull } = await import('../../src/shared/errors');
    expect(isDiskFull(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('x'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
  });

  it('removes the partial file when the write fails', async () => {
    const path = join(dir, 'fails.h5ad');
    const cells: DataFrame = { indexName: '_index', index: ['c1', 'c2'], columns: [] };
    const genes: DataFrame = { indexName: '_index', index: ['g1', 'g2'], columns: [] };
    const err = await writeH5ad(path, {
      obs: cells,
      var: genes,
      X: {
        shape: [2, 2],
        dtype: 'float32',
        async *rowBlocks() {
          yield { rowStart: 0, nRows: 1, nCols: 2, indptr: Int32Array.of(0, 1), indices: Int32Array.of(1), data: Float32Array.of(1) };
          throw new Error('disk went away');
        },
      },
    }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/disk went away/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('fails'))).toEqual([]);
  });
});
