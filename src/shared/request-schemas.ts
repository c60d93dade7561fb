// One schema per channel's request: the contract's request types are inferred from
// these, and main validates every payload against them before a handler runs. Only
// main imports this file at run time; the page and the preload take its types alone.
import * as v from 'valibot';

// Each field kind says once what it must be: the refusal names the field and this.
const text = v.pipe(v.string(), v.minLength(1), v.description('a string'));
const number = v.pipe(v.number(), v.finite(), v.description('a number'));
const boolean = v.pipe(v.boolean(), v.description('a boolean'));
const texts = v.pipe(v.array(v.string()), v.description('a list of strings'));
const fileKind = v.pipe(v.picklist(['h5ad', 'table', 'folder']), v.description('h5ad, table or folder'));
const exportFormat = v.pipe(v.picklist(['h5ad', 'csv', 'parquet']), v.description('h5ad, csv or parquet'));
const path = v.pipe(v.string(), v.description('a path'));
const deMethod = v.pipe(v.picklist(['wilcoxon', 't-test']), v.description('wilcoxon or t-test'));
const knnMetric = v.pipe(v.picklist(['euclidean', 'cosine']), v.description('euclidean or cosine'));
const tableName = v.pipe(v.picklist(['obs', 'var']), v.description('obs or var'));
const geneJoin = v.pipe(v.picklist(['outer', 'inner']), v.description('outer or inner'));
const geneMatch = v.pipe(v.picklist(['exact', 'unversioned']), v.description('exact or unversioned'));
const joinids = v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0))), v.description('a list of cell joinids (whole numbers from 0)'));
const numbers = v.pipe(v.array(v.pipe(v.number(), v.finite())), v.description('a list of numbers'));
const selectionGroup = v.pipe(v.strictObject({ label: text, joinids }), v.description('a label with its cell joinids'));

const isPlainObject = (payload: unknown) => typeof payload === 'object' && payload !== null && !Array.isArray(payload);

/** An object with exactly these fields: an unknown field is refused, never ignored. */
function requestObject<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(v.custom<object>(isPlainObject), v.strictObject(entries));
}

/** Channels that take no request: whatever the caller sent is dropped. */
const nothing = v.pipe(
  v.unknown(),
  v.transform((): void => undefined),
);

const storeRef = { storeKey: text, version: v.optional(text) };
const appendFields = { storeKey: text, fileTokens: texts, fillMissing: v.optional(boolean), addColumns: v.optional(boolean), makeUnique: v.optional(boolean), matchGenes: v.optional(geneMatch) };
const geneFields = { matchGenes: v.optional(geneMatch), join: v.optional(geneJoin), symbolColumn: v.optional(text) };

export const REQUEST_SCHEMAS = {
  'app:info': nothing,
  'library:list': nothing,
  'file:choose': v.pipe(
    v.nullish(requestObject({ kind: v.optional(fileKind) })),
    v.transform((request): void | { kind?: v.InferOutput<typeof fileKind> } => request ?? undefined),
  ),
  'file:pending': nothing,
  'file:inspect': requestObject({ fileToken: text }),
  'import:start': requestObject({ fileTokens: texts, collectionKey: text, description: v.optional(text) }),
  'concat:plan': requestObject({ collectionKey: text, makeUnique: v.optional(boolean), ...geneFields }),
  'concat:start': requestObject({ collectionKey: text, storeKey: text, makeUnique: v.optional(boolean), ...geneFields }),
  'store:summary': requestObject(storeRef),
  'store:count': requestObject({ ...storeRef, obs: v.optional(text), var: v.optional(text) }),
  'store:obs-window': requestObject({ ...storeRef, obs: v.optional(text), offset: number, limit: number, sortColumn: v.optional(text), sortDescending: v.optional(boolean) }),
  'store:var-window': requestObject({ ...storeRef, var: v.optional(text), offset: number, limit: number, sortColumn: v.optional(text), sortDescending: v.optional(boolean) }),
  'store:column-stats': requestObject({ ...storeRef, table: tableName, filter: v.optional(text), column: text }),
  'export:start': requestObject({ ...storeRef, obs: v.optional(text), var: v.optional(text), layer: v.optional(text), format: exportFormat }),
  'append:preflight': requestObject(appendFields),
  'append:start': requestObject(appendFields),
  'embed:start': requestObject({ storeKey: text, nComponents: number, layer: v.optional(text), normalize: v.optional(boolean), genes: v.optional(number), seed: v.optional(number), name: v.optional(text) }),
  'embedding:points': requestObject({ ...storeRef, name: text }),
  'embedding:colors': requestObject({ ...storeRef, obsColumn: v.optional(text), gene: v.optional(text), normalize: v.optional(boolean) }),
  'genes:search': requestObject({ ...storeRef, prefix: text, limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200), v.description('a whole number from 1 to 200'))) }),
  'versions:list': requestObject({ storeKey: text }),
  'versions:diff': requestObject({ storeKey: text, a: text, b: text }),
  'versions:restore': requestObject({ storeKey: text, version: text }),
  'lineage:get': requestObject({ ref: text }),
  'run:get': requestObject({ uid: text }),
  'jobs:list': nothing,
  'jobs:cancel': requestObject({ id: text }),
  'space:check': requestObject({ collectionKey: v.optional(text), storeKey: v.optional(text), fileTokens: v.optional(texts) }),
  'artifact:delete': requestObject({ ref: text, force: v.optional(boolean) }),
  'artifact:rename': requestObject({ ref: text, newKey: text }),
  'artifact:inspect': requestObject({ ref: text }),
  'store:verify': requestObject({ storeKey: text, fix: v.optional(boolean) }),
  'store:compact': requestObject({ storeKey: text, confirm: boolean }),
  'annotate:preview': requestObject({ storeKey: text, fileToken: text }),
  'annotate:start': requestObject({ storeKey: text, fileToken: text }),
  'collection:remove-member': requestObject({ collectionKey: text, member: text }),
  'export:list': nothing,
  'de:start': requestObject({
    ...storeRef,
    obs: v.optional(text),
    referenceObs: v.optional(text),
    groupby: v.optional(text),
    group: v.optional(text),
    reference: v.optional(text),
    method: v.optional(deMethod),
    layer: v.optional(text),
    // Cells picked in the app (a selection), with the names the result shows for each side.
    obsJoinids: v.optional(joinids),
    referenceJoinids: v.optional(joinids),
    groupName: v.optional(text),
    referenceName: v.optional(text),
  }),
  'de:table': requestObject({ table: text, offset: number, limit: number }),
  'de:export': requestObject({ table: text }),
  'selection:save': requestObject({
    storeKey: text,
    column: text,
    groups: v.pipe(v.array(selectionGroup), v.minLength(1), v.description('one or more labelled selections')),
    restLabel: v.optional(text),
    embedding: v.optional(text),
    version: v.optional(number),
    polygons: v.optional(v.array(numbers)),
  }),
  'neighbors:start': requestObject({ storeKey: text, embedding: v.optional(text), k: v.optional(number), metric: v.optional(knnMetric), name: v.optional(text), seed: v.optional(number) }),
  'umap:start': requestObject({ storeKey: text, neighbors: v.optional(text), minDist: v.optional(number), seed: v.optional(number), epochs: v.optional(number), name: v.optional(text) }),
  'cluster:start': requestObject({ storeKey: text, resolution: v.optional(number), name: v.optional(text), neighbors: v.optional(text), seed: v.optional(number) }),
  'qc:start': requestObject({ storeKey: text, layer: v.optional(text) }),
  // The preload's own channel: an empty path (a File not from disk) is answered, not refused.
  'drop:register': requestObject({ path }),
};

export type RequestSchemas = typeof REQUEST_SCHEMAS;
export type Requests = { [K in keyof RequestSchemas]: v.InferOutput<RequestSchemas[K]> };
export type FileKind = v.InferOutput<typeof fileKind>;
