// Writes Arrow tables as Parquet files with parquet-wasm: the Rust arrow/parquet crates
// compiled to WebAssembly. Chosen over the pure-JS writers because it writes every Arrow type
// the store has as Arrow's own C++/Rust writers do (dictionary columns with their ordered flag,
// nullable and unsigned integers, int64, the ARROW:schema that pyarrow and Polars restore
// categoricals from) with zstd, and takes the Arrow IPC the store already speaks. It stays a
// runtime dependency, not bundled: its Node build reads its .wasm from beside its own file.
import { writeFile } from 'node:fs/promises';
import { tableToIPC, type Table } from 'apache-arrow';

type ParquetWasm = typeof import('parquet-wasm');

let loaded: Promise<ParquetWasm> | null = null;

/** Loaded on first use so commands that never write Parquet never compile the module. */
function parquetWasm(): Promise<ParquetWasm> {
  loaded ??= import('parquet-wasm');
  return loaded;
}

export interface ParquetWriteOptions {
  /** Rows per row group: the unit a reader can skip or hand to one thread. */
  rowGroupRows?: number;
  /**
   * Plain (not dictionary) pages, and DELTA_BINARY_PACKED for these integer columns: for X
   * coordinates a dictionary costs three times the time and, after zstd, saves nothing.
   */
  deltaColumns?: string[];
  /** Written into the file's key-value metadata. */
  metadata?: Record<string, string>;
}

export const PARQUET_CREATED_BY = 'Cellar (parquet-wasm)';

/** The Parquet bytes of an Arrow table, zstd-compressed. */
export async function parquetBytes(table: Table, options: ParquetWriteOptions = {}): Promise<Uint8Array> {
  const pq = await parquetWasm();
  let builder = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setCreatedBy(PARQUET_CREATED_BY);
  if (options.rowGroupRows) builder = builder.setMaxRowGroupSize(options.rowGroupRows);
  if (options.deltaColumns) {
    builder = builder.setDictionaryEnabled(false);
    for (const column of options.deltaColumns) builder = builder.setColumnEncoding(column, pq.Encoding.DELTA_BINARY_PACKED);
  }
  if (options.metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(table, 'stream'));
  // writeParquet consumes the table and the properties (their wasm memory is freed).
  return pq.writeParquet(wasmTable, builder.build());
}

export async function writeParquetFile(path: string, table: Table, options: ParquetWriteOptions = {}): Promise<number> {
  const bytes = await parquetBytes(table, options);
  await writeFile(path, bytes);
  return bytes.length;
}
