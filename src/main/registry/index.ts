// The registry's public surface: open it, hash files the way lamindb does, make uids.
export * from './registry';
export { hashFile, hashFolder, hashDirectory, hashCollection, HASH_CHUNK_SIZE, HASH_LENGTH, type FileHash, type FolderHash } from './hash';
export { newArtifactUid, incrementBase62, UID_LENGTHS } from './uid';
export { LATEST_SCHEMA_VERSION } from './migrations';
export type { OpenDatabaseOptions } from './schema';
