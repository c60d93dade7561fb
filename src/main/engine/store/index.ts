// The array store: versioned manifests over immutable Arrow IPC files (docs/store-format.md).
export { createStoreWriter, DEFAULT_X_CHUNK_ROWS, DEFAULT_X_CODEC } from './store-writer';
export type { CommitResult, StoreWriter, StoreWriterOptions } from './store-writer';
export { listVersions, openStore } from './store-reader';
export type { FrameReader, StoreReader, VersionInfo } from './store-reader';
export { verifyStore } from './format/verify';
export type { VerifyOptions, VerifyResult } from './format/verify';
export { MAX_STORED_CATEGORIES } from './frames/frame-writer';
export type { TableSlice } from './frames/frame-writer';
export type { DenseArray } from './frames/dense-codec';
export { RowReadBuffers } from './x/x-reader';
export type { CscMatrix, CsrMatrix, XRowBlock } from './x/x-reader';
export { nodeStoreFs } from './io/store-fs';
export type { StoreFs } from './io/store-fs';
export { registerArrowCodecs } from './io/codecs';
export type { StoreCodec } from './io/codecs';
export { listManifestVersions, readManifest } from './format/manifest';
export type { ColumnEntry, FrameEntry, LayerEntry, StoreManifest, XFragment } from './format/manifest';
