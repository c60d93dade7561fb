// What a Parquet export folder holds: its tables, its X matrices split into parts by ranges
// of cells, and what made it. The export writes it; its README describes it.
import type { NumericDtype } from '../../columns/column-model';

export interface ParquetPart {
  /** Relative to the export folder. */
  path: string;
  /** First and last obs soma_joinid in the file (inclusive); null for an empty file. */
  obsJoinids: [number, number] | null;
  nnz: number;
}

export interface ParquetMatrix {
  measurement: string;
  layer: string;
  /** The folder holding the parts, relative to the export folder. */
  path: string;
  dtype: NumericDtype;
  nnz: number;
  parts: ParquetPart[];
}

export interface ParquetTable {
  name: string;
  path: string;
  rows: number;
  columns: string[];
}

export interface ParquetExportResult {
  path: string;
  format: 'parquet';
  n_obs: number;
  n_vars: number;
  tables: ParquetTable[];
  matrices: ParquetMatrix[];
  store: { key: string; version: number; uid: string };
  filters: { obs: string | null; var: string | null };
  run: { uid: string };
}
