// Real HDF5 booleans from h5wasm, which cannot create enum datatypes.
//
// h5py (and so anndata) stores numpy bools as an enum {FALSE: 0, TRUE: 1} over
// int8; a uint8 dataset reads back as integers and a uint8 nullable `mask` is
// rejected. So bools are first written with a stand-in datatype h5wasm *can*
// create: a one-byte compound with a single int8 member whose 11-character
// name makes its encoded datatype message exactly as long as the enum's (33
// bytes in datatype version 3, i.e. files with library-version bounds v1.8).
// After the file is closed, every stand-in message is overwritten in place by
// the enum message and the checksum of the object-header chunk that holds it
// is recomputed. Sizes, offsets and the stored bytes stay as they were.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { encodeDatatype, lookup3 } from './hdf5-format';

/** Member name of the stand-in compound; its length (11) is what makes the sizes match. */
export const BOOL_PLACEHOLDER_MEMBER = 'cellar.bool';

/** Datatype message of the stand-in as HDF5 encodes it (version 3 compound, one int8 member). */
const PLACEHOLDER_MESSAGE = Uint8Array.from([
  0x36, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // compound v3, 1 member, size 1
  ...Array.from(BOOL_PLACEHOLDER_MEMBER, (c) => c.charCodeAt(0)), 0x00, // member name
  0x00, // member offset (1 byte: enough for a 1-byte compound)
  0x10, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, // int8, little-endian
]);

/** h5py's boolean: enum over int8 with FALSE = 0, TRUE = 1 (datatype message version 3). */
const BOOL_ENUM_MESSAGE = Uint8Array.from(encodeDatatype({ kind: 'bool' }).view());

if (PLACEHOLDER_MESSAGE.length !== BOOL_ENUM_MESSAGE.length) {
  throw new Error('boolean stand-in and enum datatype messages must have the same length');
}

/** Metadata for h5wasm's create_dataset / create_attribute that yields the stand-in type. */
export function boolPlaceholderMetadata(): {
  type: number;
  size: number;
  signed: boolean;
  vlen: boolean;
  littleEndian: boolean;
  total_size: number;
  compound_type: { nmembers: number; members: object[] };
} {
  return {
    type: 6,
    size: 1,
    signed: false,
    vlen: false,
    littleEndian: true,
    total_size: 0,
    compound_type: {
      nmembers: 1,
      members: [{ name: BOOL_PLACEHOLDER_MEMBER, offset: 0, type: 0, size: 1, signed: true, vlen: false, littleEndian: true }],
    },
  };
}

const SCAN_WINDOW = 8 << 20;
/** Object-header chunks are small; a message is never further than this from its chunk's start. */
const MAX_CHUNK_SPAN = 1 << 20;
const OHDR = [0x4f, 0x48, 0x44, 0x52];
const OCHK = [0x4f, 0x43, 0x48, 0x4b];

/** Offsets of every occurrence of `pattern` in the file, read in bounded windows. */
function findAll(fd: number, fileSize: number, pattern: Uint8Array): number[] {
  const hits: number[] = [];
  const overlap = pattern.length - 1;
  const buffer = Buffer.alloc(SCAN_WINDOW + overlap);
  for (let start = 0; start < fileSize; start += SCAN_WINDOW) {
    const length = readSync(fd, buffer, 0, Math.min(buffer.length, fileSize - start), start);
    const view = buffer.subarray(0, length);
    for (let at = view.indexOf(pattern); at !== -1; at = view.indexOf(pattern, at + 1)) {
      if (at < SCAN_WINDOW || start + SCAN_WINDOW >= fileSize) hits.push(start + at);
    }
  }
  return [...new Set(hits)];
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

function readUint(bytes: Uint8Array, at: number, width: number): number {
  let value = 0;
  for (let i = width - 1; i >= 0; i--) value = value * 256 + bytes[at + i];
  return value;
}

interface ChunkSpan {
  /** File offset of the chunk's signature. */
  start: number;
  /** Offset of its 4-byte checksum (the checksum covers [start, checksumAt)). */
  checksumAt: number;
}

/** Chunk 0 of a version-2 object header starting at `start`, if it parses and its checksum holds. */
function verifyOhdr(fd: number, start: number): ChunkSpan | null {
  const head = readAt(fd, start, 32);
  if (head.length < 8 || head[4] !== 2) return null;
  const flags = head[5];
  let at = 6;
  if (flags & 0x20) at += 16; // access, modification, change, birth times
  if (flags & 0x10) at += 4; // attribute storage phase change values
  const width = 1 << (flags & 0x03);
  const size = readUint(head, at, width);
  const checksumAt = start + at + width + size;
  return checksumHolds(fd, start, checksumAt) ? { start, checksumAt } : null;
}

/**
 * Where continuation messages point: file address → chunk lengths. A
 * continuation message is type 0x10 with a 16-byte body (address, length),
 * after a flags byte and, when creation order is tracked, 2 more bytes; byte
 * runs that merely look like one are weeded out by the checksum later.
 */
function continuationTargets(fd: number, fileSize: number, addressSize: number): Map<number, number[]> {
  const targets = new Map<number, number[]>();
  for (const hit of findAll(fd, fileSize, Uint8Array.of(0x10, 0x10, 0x00))) {
    const body = readAt(fd, hit + 4, 2 + 2 * addressSize);
    for (const skip of [0, 2]) {
      if (body.length < skip + 2 * addressSize) continue;
      const address = readUint(body, skip, addressSize);
      const length = readUint(body, skip + addressSize, addressSize);
      if (address >= fileSize || length < 8 || length > MAX_CHUNK_SPAN) continue;
      targets.set(address, [...(targets.get(address) ?? []), length]);
    }
  }
  return targets;
}

/** A continuation chunk starting at `start`: its length is in the continuation message that points at it. */
function verifyOchk(fd: number, start: number, targets: () => Map<number, number[]>): ChunkSpan | null {
  for (const length of targets().get(start) ?? []) {
    const checksumAt = start + length - 4;
    if (checksumHolds(fd, start, checksumAt)) return { start, checksumAt };
  }
  return null;
}

function checksumHolds(fd: number, start: number, checksumAt: number): boolean {
  if (checksumAt <= start || checksumAt - start > MAX_CHUNK_SPAN) return false;
  const bytes = readAt(fd, start, checksumAt - start + 4);
  if (bytes.length !== checksumAt - start + 4) return false;
  return lookup3(bytes.subarray(0, checksumAt - start)) === bytes.readUInt32LE(checksumAt - start);
}

/** The verified object-header chunk that contains the bytes [at, at + length). */
function findContainingChunk(fd: number, at: number, length: number, targets: () => Map<number, number[]>): ChunkSpan | null {
  // Chunks are usually well under 4 KiB: look close first, widen only when needed.
  let searchedFrom = at;
  for (let window = 4096; searchedFrom > 0 && at - searchedFrom < MAX_CHUNK_SPAN; window *= 4) {
    const windowStart = Math.max(0, at - window);
    // Re-read 3 bytes past the previous window so a signature straddling the edge is seen.
    const before = readAt(fd, windowStart, Math.min(at, searchedFrom + 3) - windowStart);
    // Nearest signature first; a signature-like byte run inside a message fails its checksum and is skipped.
    for (let i = before.length - 4; i >= 0; i--) {
      const isOhdr = before[i] === OHDR[0] && before[i + 1] === OHDR[1] && before[i + 2] === OHDR[2] && before[i + 3] === OHDR[3];
      const isOchk = before[i] === OCHK[0] && before[i + 1] === OCHK[1] && before[i + 2] === OCHK[2] && before[i + 3] === OCHK[3];
      if (!isOhdr && !isOchk) continue;
      const start = windowStart + i;
      const span = isOhdr ? verifyOhdr(fd, start) : verifyOchk(fd, start, targets);
      if (span && span.checksumAt >= at + length) return span;
    }
    searchedFrom = windowStart;
  }
  return null;
}

/** Size of file addresses, from the version 2/3 superblock h5wasm writes with v1.8 bounds. */
function addressSizeOf(fd: number): number {
  const superblock = readAt(fd, 0, 16);
  if (superblock.length < 10 || superblock[8] < 2) throw new Error('expected a version 2 or 3 HDF5 superblock');
  return superblock[9];
}

/**
 * Rewrites every boolean stand-in datatype in a closed HDF5 file as h5py's
 * boolean enum. `expected` is how many stand-ins were created; any
 * mismatch is an error, so a file is never left half-converted silently.
 */
export function convertBoolPlaceholders(path: string, expected: number): void {
  if (expected === 0) return;
  const fd = openSync(path, 'r+');
  try {
    const fileSize = fstatSync(fd).size;
    const addressSize = addressSizeOf(fd);
    let targets: Map<number, number[]> | null = null;
    // Only needed (and built once) when a stand-in sits in a continuation chunk.
    const continuationMap = () => (targets ??= continuationTargets(fd, fileSize, addressSize));
    const patched: { at: number; span: ChunkSpan }[] = [];
    for (const at of findAll(fd, fileSize, PLACEHOLDER_MESSAGE)) {
      const span = findContainingChunk(fd, at, PLACEHOLDER_MESSAGE.length, continuationMap);
      if (span) patched.push({ at, span });
    }
    if (patched.length !== expected) {
      throw new Error(`found ${patched.length} of ${expected} boolean datatypes to convert`);
    }
    for (const { at, span } of patched) {
      writeSync(fd, BOOL_ENUM_MESSAGE, 0, BOOL_ENUM_MESSAGE.length, at);
      const chunk = readAt(fd, span.start, span.checksumAt - span.start);
      const checksum = Buffer.alloc(4);
      checksum.writeUInt32LE(lookup3(chunk), 0);
      writeSync(fd, checksum, 0, 4, span.checksumAt);
    }
  } finally {
    closeSync(fd);
  }
}
