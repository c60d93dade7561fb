// The one table from (encoding-type, encoding-version) to a reader. Adding an
// encoding is adding one entry below. Untagged elements (anndata ≤ 0.7 files)
// are given the encoding they would have had by encodingForUntagged.
import { CellarError } from '../../../../../shared/errors';
import { datasetShape, elementDtype, h5ErrorReason, H5T, isDataset, isGroup, readStringAttribute, type H5Dataset } from '../h5';
import { anndataEncoding, rawEncoding } from './anndata';
import { arrayEncoding, stringArrayEncoding } from './arrays';
import { awkwardArrayEncoding } from './awkward';
import { categoricalEncoding } from './categorical';
import { badElement, childPath, displayPath, notice, type Element, type EncodingReader, type H5Node, type ReadContext } from './context';
import { dataframe07Encoding, dataframeEncoding } from './dataframe';
import { dictEncoding } from './mapping';
import { nullableBooleanEncoding, nullableIntegerEncoding, nullableStringEncoding } from './nullable';
import { recArrayEncoding } from './recarray';
import { nullEncoding, numericScalarEncoding, stringScalarEncoding } from './scalars';
import { cscEncoding, csrEncoding } from './sparse';

const ENCODINGS: EncodingReader[] = [
  anndataEncoding,
  rawEncoding,
  dataframeEncoding,
  dataframe07Encoding,
  arrayEncoding,
  csrEncoding,
  cscEncoding,
  categoricalEncoding,
  stringArrayEncoding,
  nullableIntegerEncoding,
  nullableBooleanEncoding,
  nullableStringEncoding,
  stringScalarEncoding,
  numericScalarEncoding,
  dictEncoding,
  recArrayEncoding,
  awkwardArrayEncoding,
  nullEncoding,
];

const registry = new Map(ENCODINGS.map((entry) => [`${entry.type}@${entry.version}`, entry]));

export interface EncodingTag {
  type: string;
  version: string;
  /** True when the element carried no encoding attributes and the tag was inferred. */
  inferred: boolean;
}

/** The element's encoding, from its attributes or, for untagged elements, from its shape on disk. */
export function encodingOf(path: string, node: H5Node): EncodingTag {
  const type = readStringAttribute(node, 'encoding-type');
  if (type) {
    const version = readStringAttribute(node, 'encoding-version') ?? newestVersionOf(type) ?? '';
    return { type, version, inferred: false };
  }
  return { ...encodingForUntagged(path, node), inferred: true };
}

function newestVersionOf(type: string): string | undefined {
  const versions = ENCODINGS.filter((e) => e.type === type).map((e) => e.version);
  return versions.sort().pop();
}

function encodingForUntagged(path: string, node: H5Node): { type: string; version: string } {
  if (isGroup(node)) {
    const legacySparse = readStringAttribute(node, 'h5sparse_format');
    if (legacySparse) return { type: legacySparse === 'csc' ? 'csc_matrix' : 'csr_matrix', version: '0.1.0' };
    if (path === '/') return { type: 'anndata', version: '0.1.0' };
    if (path === '/raw') return { type: 'raw', version: '0.1.0' };
    if (readStringAttribute(node, '_index') !== undefined) return { type: 'dataframe', version: '0.1.0' };
    return { type: 'dict', version: '0.1.0' };
  }
  const dataset = node as H5Dataset;
  const shape = datasetShape(dataset);
  if (shape === null) return { type: 'null', version: '0.1.0' };
  const meta = dataset.metadata;
  if (meta.type === H5T.compound) return { type: 'rec-array', version: '0.2.0' };
  const isString = elementDtype(meta) === 'string';
  if (shape.length === 0) return { type: isString ? 'string' : 'numeric-scalar', version: '0.2.0' };
  return { type: isString ? 'string-array' : 'array', version: '0.2.0' };
}

export function isSupportedEncoding(tag: { type: string; version: string }): boolean {
  return registry.has(`${tag.type}@${tag.version}`);
}

/** Reads any element by path. Unknown encodings and skipped elements come back as 'skipped' with a notice. */
export function readElement(ctx: ReadContext, path: string): Element {
  ctx.assertOpen();
  let node: unknown;
  try {
    node = ctx.file.get(path);
  } catch (err) {
    throw badElement(ctx, path, `could not be read: ${h5ErrorReason(err)}`);
  }
  if (!isGroup(node) && !isDataset(node)) throw badElement(ctx, path, 'is missing or is a broken link');
  let element: Element;
  try {
    const tag = encodingOf(path, node);
    const reader = registry.get(`${tag.type}@${tag.version}`);
    element = reader
      ? reader.read(ctx, path, node)
      : { kind: 'skipped', encoding: `${tag.type} ${tag.version}`, reason: `unsupported encoding "${tag.type}" version ${tag.version}` };
  } catch (err) {
    if (err instanceof CellarError) throw err;
    throw badElement(ctx, path, `could not be read: ${h5ErrorReason(err)}`);
  }
  if (element.kind === 'skipped') notice(ctx, `${displayPath(path)}: skipped (${element.reason})`);
  return element;
}

/**
 * Records notices for elements under `path` that would be skipped, reading
 * only attributes (used for uns at open time, so notices appear without
 * reading uns).
 */
export function noteUnreadableElements(ctx: ReadContext, path: string): void {
  const node = ctx.file.get(path);
  if (!isGroup(node) && !isDataset(node)) return;
  const tag = encodingOf(path, node);
  if (tag.type === 'awkward-array') {
    notice(ctx, `${displayPath(path)}: skipped (awkward arrays are not supported)`);
  } else if (!isSupportedEncoding(tag)) {
    notice(ctx, `${displayPath(path)}: skipped (unsupported encoding "${tag.type}" version ${tag.version})`);
  } else if (tag.type === 'dict' && isGroup(node)) {
    for (const key of node.keys()) noteUnreadableElements(ctx, childPath(path, key));
  }
}
