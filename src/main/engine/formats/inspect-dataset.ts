// `cellar inspect` for every format: the h5ad report (shape, columns, layers, …) plus the
// format, the feature types a 10x file holds and which of them became X, and what is left out.
import { formatCount } from '../../../shared/format-number';
import type { InspectReport } from './h5ad/inspect';
import { formatInspect, inspectH5ad } from './h5ad/inspect';
import type { H5wasm } from './h5ad/h5';
import { openLoadedH5ad } from './h5ad/reader';
import { asDataset, openDataset } from './open-dataset';
import type { DatasetFile, DatasetFormat, DroppedPart, FeatureTypeCount, ReadCheck } from './source';

export interface DatasetInspectReport extends InspectReport {
  format: DatasetFormat;
  format_label: string;
  feature_types: FeatureTypeCount[];
  dropped: DroppedPart[];
}

/** Opens, checks everything a later read relies on (validate), summarises, always closes. */
export async function inspectDatasetFile(path: string, check: ReadCheck = {}): Promise<DatasetInspectReport> {
  const file = await openDataset(path);
  try {
    await file.validate(check);
    return reportOf(file);
  } finally {
    file.close();
  }
}

/**
 * inspectDatasetFile of an .h5ad once h5wasm is loaded, synchronous from open to close (an
 * .h5ad has nothing more to validate), so a watchdog can stop it (inspect-here.ts).
 */
export function inspectLoadedH5ad(h5: H5wasm, path: string): DatasetInspectReport {
  const file = asDataset(openLoadedH5ad(h5, path));
  try {
    return reportOf(file);
  } finally {
    file.close();
  }
}

function reportOf(file: DatasetFile): DatasetInspectReport {
  return { ...inspectH5ad(file), format: file.format, format_label: file.formatLabel, feature_types: file.featureTypes, dropped: file.dropped };
}

/** The h5ad summary with the format in its first line and the feature types after it. */
export function formatDatasetInspect(report: InspectReport & Partial<DatasetInspectReport>): string {
  const text = formatInspect(report);
  if (!report.format || report.format === 'h5ad') return text;
  const lines = text.split('\n');
  lines[0] = lines[0]!.replace(/, (AnnData encoding .*|legacy layout .*)$/, `, ${report.format_label}`);
  if (report.feature_types?.length) {
    const types = report.feature_types.map((t) => `${t.type} (${formatCount(t.count)}${t.kept ? ', kept as X' : ', not imported'})`);
    lines.splice(1, 0, `feature types: ${types.join(', ')}`);
  }
  return lines.join('\n');
}
