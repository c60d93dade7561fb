// The array store: versioned manifests over immutable Arrow IPC files (docs/store-format.md).
export { createStoreWriter, DEFAULT_X_CHUNK_ROWS, DEFAULT_X_CODEC } from './writer';
export type { CommitResult, StoreWriter, StoreWriterOptions } from './writer';
export { listVersions, openStore } from './reader';
export type { FrameReader, StoreReader, VersionInfo } from './reader';
export { verifyStore } from './verify';
export type { VerifyOptions, VerifyResult } from './verify';
export { MAX_STORED_CATEGORIES } from './frameWriter';
export type { TableSlice } from './frameWriter';
export type { DenseArray } from './denseCodec';
export { RowReadBuffers } from './xReader';
export type { CscMatrix, CsrMatrix, XRowBlock } from './xReader';
export { nodeStoreFs } from './storeFs';
export type { StoreFs } from './storeFs';
export { registerArrowCodecs } from './codecs';
export type { StoreCodec } from './codecs';
export { listManifestVersions, readManifest } from './manifest';
export type { ColumnEntry, FrameEntry, LayerEntry, StoreManifest, XFragment } from './manifest';
