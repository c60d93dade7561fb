// Byte encodings of the HDF5 structures an .h5ad needs, as the HDF5 file format
// specification (version 3.0) lays them out for files with v1.8 format bounds:
// superblock version 2, version 2 object headers with compact links, version 3
// attribute messages, contiguous dataset storage, and global heap collections for
// variable-length strings. All integers are little-endian; offsets and lengths are
// 8 bytes. Nothing here does I/O: hdf5-file.ts places these bytes in a file.

/** The "undefined address" of the format: all bits set. */
const UNDEFINED_ADDRESS = 0xffffffffffffffffn;
/** Bytes of one variable-length reference on disk: length (4), heap collection address (8), object index (4). */
export const VLEN_REFERENCE_BYTES = 16;
/** The smallest global heap collection the HDF5 library reads (it loads this much first). */
export const MIN_HEAP_COLLECTION_BYTES = 4096;
/** Object indexes of a heap collection are 16 bits; 0 is its free space. */
const MAX_HEAP_OBJECTS = 65535;
/** A message's size field is 16 bits. */
export const MAX_MESSAGE_BYTES = 0xffff;

/** Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5 metadata blocks (initial value 0 there). */
export function lookup3(bytes: Uint8Array, initval = 0): number {
  let length = bytes.length;
  let a = (0xdeadbeef + length + initval) | 0;
  let b = a;
  let c = a;
  let k = 0;
  const rot = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  while (length > 12) {
    a = (a + (bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16) | (bytes[k + 3] << 24))) | 0;
    b = (b + (bytes[k + 4] | (bytes[k + 5] << 8) | (bytes[k + 6] << 16) | (bytes[k + 7] << 24))) | 0;
    c = (c + (bytes[k + 8] | (bytes[k + 9] << 8) | (bytes[k + 10] << 16) | (bytes[k + 11] << 24))) | 0;
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    length -= 12;
    k += 12;
  }
  if (length === 0) return c >>> 0;
  // Tail: the C version's fall-through switch, bytes beyond `length` count as zero.
  const tail = new Uint8Array(12);
  tail.set(bytes.subarray(k, k + length));
  a = (a + (tail[0] | (tail[1] << 8) | (tail[2] << 16) | (tail[3] << 24))) | 0;
  b = (b + (tail[4] | (tail[5] << 8) | (tail[6] << 16) | (tail[7] << 24))) | 0;
  c = (c + (tail[8] | (tail[9] << 8) | (tail[10] << 16) | (tail[11] << 24))) | 0;
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

// ---------------------------------------------------------------- bytes

/** A growable little-endian byte buffer (each write reserves its room before touching the buffer, which may be replaced). */
export class Bytes {
  private buffer = Buffer.alloc(64);
  length = 0;

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, at + n));
      this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
    }
    this.length += n;
    return at;
  }

  u8(value: number): this {
    const at = this.room(1);
    this.buffer[at] = value;
    return this;
  }

  u16(value: number): this {
    const at = this.room(2);
    this.buffer.writeUInt16LE(value, at);
    return this;
  }

  u32(value: number): this {
    const at = this.room(4);
    this.buffer.writeUInt32LE(value >>> 0, at);
    return this;
  }

  u64(value: number | bigint): this {
    const at = this.room(8);
    this.buffer.writeBigUInt64LE(BigInt(value), at);
    return this;
  }

  /** An unsigned integer in `width` bytes (1–8). */
  uint(value: number, width: number): this {
    const at = this.room(width);
    let rest = value;
    for (let i = 0; i < width; i++) {
      this.buffer[at + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
    return this;
  }

  bytes(value: Uint8Array): this {
    const at = this.room(value.length);
    this.buffer.set(value, at);
    return this;
  }

  /** `text` as UTF-8, without a terminator. */
  text(value: string): this {
    const size = Buffer.byteLength(value, 'utf8');
    const at = this.room(size);
    this.buffer.write(value, at, size, 'utf8');
    return this;
  }

  zeros(n: number): this {
    const at = this.room(n);
    this.buffer.fill(0, at, this.length);
    return this;
  }

  /** The bytes written so far (a view; copy before writing more). */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

// ---------------------------------------------------------------- datatypes

export type H5Datatype =
  | { kind: 'int'; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'float'; size: 4 | 8 }
  /** Variable-length UTF-8 string (what h5py writes for `str`). */
  | { kind: 'vlen-string' }
  /** h5py's boolean: an enum FALSE = 0, TRUE = 1 over int8. */
  | { kind: 'bool' }
  | { kind: 'compound'; size: number; members: { name: string; offset: number; type: H5Datatype }[] };

/** Bytes one element of `type` takes in the file. */
export function datatypeSize(type: H5Datatype): number {
  switch (type.kind) {
    case 'int':
    case 'float':
      return type.size;
    case 'vlen-string':
      return VLEN_REFERENCE_BYTES;
    case 'bool':
      return 1;
    case 'compound':
      return type.size;
  }
}

function holdsVlen(type: H5Datatype): boolean {
  if (type.kind === 'vlen-string') return true;
  return type.kind === 'compound' && type.members.some((m) => holdsVlen(m.type));
}

/** Class and version in the first byte, then the 24 class bits and the element size. */
function typeHeader(out: Bytes, version: number, typeClass: number, bits: number, size: number): void {
  out.u8((version << 4) | typeClass).u8(bits & 0xff).u8((bits >> 8) & 0xff).u8((bits >> 16) & 0xff).u32(size);
}

/** The smallest whole number of bytes that holds offsets into a compound of `size` bytes. */
function offsetWidth(size: number): number {
  return Math.floor(Math.log2(Math.max(1, size)) / 8) + 1;
}

export function encodeDatatype(type: H5Datatype, out: Bytes = new Bytes()): Bytes {
  switch (type.kind) {
    case 'int':
      // Fixed-point, version 1: byte order little-endian (bit 0 clear), signed in bit 3.
      typeHeader(out, 1, 0, type.signed ? 0x08 : 0, type.size);
      return out.u16(0).u16(type.size * 8);
    case 'float':
      // Floating-point, version 1: IEEE layout; bits 4–5 = 2 (implied leading mantissa bit), sign bit in bits 8–15.
      if (type.size === 4) {
        typeHeader(out, 1, 1, 0x20 | (31 << 8), 4);
        return out.u16(0).u16(32).u8(23).u8(8).u8(0).u8(23).u32(127);
      }
      typeHeader(out, 1, 1, 0x20 | (63 << 8), 8);
      return out.u16(0).u16(64).u8(52).u8(11).u8(0).u8(52).u32(1023);
    case 'vlen-string':
      // Variable-length, version 1: type string (1), NUL-terminated, UTF-8 (1 in bits 8–11); base type uint8.
      typeHeader(out, 1, 9, 0x01 | (1 << 8), VLEN_REFERENCE_BYTES);
      return encodeDatatype({ kind: 'int', size: 1, signed: false }, out);
    case 'bool':
      // Enumeration, version 3 (names not padded): two members over int8.
      typeHeader(out, 3, 8, 2, 1);
      encodeDatatype({ kind: 'int', size: 1, signed: true }, out);
      return out.text('FALSE\0TRUE\0').u8(0).u8(1);
    case 'compound': {
      // Compound, version 3: names not padded, offsets in as few bytes as the size needs.
      typeHeader(out, 3, 6, type.members.length, type.size);
      const width = offsetWidth(type.size);
      for (const member of type.members) {
        out.text(member.name).u8(0).uint(member.offset, width);
        encodeDatatype(member.type, out);
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------- messages

export interface Message {
  type: number;
  /** Message flags: bit 0 marks a constant message (datatypes, fill values, group info). */
  flags: number;
  body: Uint8Array;
}

export const MESSAGE = {
  dataspace: 0x01,
  linkInfo: 0x02,
  datatype: 0x03,
  fillValue: 0x05,
  link: 0x06,
  layout: 0x08,
  groupInfo: 0x0a,
  filterPipeline: 0x0b,
  attribute: 0x0c,
  attributeInfo: 0x15,
} as const;

/**
 * Dataspace, version 2: `null` shape is a scalar. Maximum dimensions equal the dimensions unless
 * given (null: unlimited).
 */
export function dataspaceBody(shape: readonly number[] | null, maxshape?: readonly (number | null)[]): Uint8Array {
  const out = new Bytes();
  if (shape === null) return out.u8(2).u8(0).u8(0).u8(0).view();
  out.u8(2).u8(shape.length).u8(1).u8(1);
  for (const d of shape) out.u64(d);
  shape.forEach((d, i) => {
    const max = maxshape ? maxshape[i] : d;
    out.u64(max === null || max === undefined ? UNDEFINED_ADDRESS : max);
  });
  return out.view();
}

export function datatypeMessage(type: H5Datatype): Message {
  return { type: MESSAGE.datatype, flags: 1, body: Uint8Array.from(encodeDatatype(type).view()) };
}

/**
 * Fill value, version 3, no fill value of our own, with the allocation and fill times h5py
 * leaves: contiguous data allocated late (written if set), chunks allocated incrementally.
 */
export function fillValueMessage(type: H5Datatype, chunked = false): Message {
  return { type: MESSAGE.fillValue, flags: 1, body: Uint8Array.of(3, chunked ? 0x03 : holdsVlen(type) ? 0x02 : 0x0a) };
}

/**
 * Filter pipeline, version 2: deflate (filter 1) at `level`, after the byte shuffle (filter 2,
 * its one parameter the element size) when `shuffleSize` is given; both marked optional, as
 * h5py writes `compression='gzip', shuffle=True`.
 */
export function deflatePipelineMessage(level: number, shuffleSize?: number): Message {
  const out = new Bytes().u8(2).u8(shuffleSize ? 2 : 1);
  if (shuffleSize) out.u16(2).u16(1).u16(1).u32(shuffleSize);
  out.u16(1).u16(1).u16(1).u32(level);
  return { type: MESSAGE.filterPipeline, flags: 1, body: Uint8Array.from(out.view()) };
}

/** HDF5's shuffle filter: byte j of every element together, for j = 0 … size − 1. */
export function shuffleBytes(bytes: Uint8Array, size: number): Uint8Array {
  const n = Math.floor(bytes.length / size);
  const out = new Uint8Array(bytes.length);
  if (size === 4 && bytes.byteOffset % 4 === 0 && bytes.length === n * 4) {
    // One 32-bit read an element, its four bytes to the four planes (twice as fast).
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    const p0 = out.subarray(0, n);
    const p1 = out.subarray(n, 2 * n);
    const p2 = out.subarray(2 * n, 3 * n);
    const p3 = out.subarray(3 * n);
    for (let i = 0; i < n; i++) {
      const v = words[i];
      p0[i] = v;
      p1[i] = v >>> 8;
      p2[i] = v >>> 16;
      p3[i] = v >>> 24;
    }
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * n;
    for (let i = 0, k = j; i < n; i++, k += size) out[base + i] = bytes[k];
  }
  // Bytes past the last whole element stay where they were (as the filter leaves them).
  out.set(bytes.subarray(n * size), n * size);
  return out;
}

/** Data layout, version 3, chunked: the chunk index (a version 1 B-tree) and the chunk's dimensions. */
export function chunkedLayoutMessage(btreeAddress: number | null, chunk: readonly number[], elementBytes: number): Message {
  const out = new Bytes().u8(3).u8(2).u8(chunk.length + 1).u64(btreeAddress === null ? UNDEFINED_ADDRESS : btreeAddress);
  for (const d of chunk) out.u32(d);
  out.u32(elementBytes);
  return { type: MESSAGE.layout, flags: 0, body: Uint8Array.from(out.view()) };
}

// ---------------------------------------------------------------- chunk index (version 1 B-tree)

/** Children a version 1 B-tree node of a chunk index holds: 2K, K = 32 (the library's default). */
export const BTREE_CHILDREN = 64;

/** One key of a chunk B-tree: the chunk's stored size, its filter mask, its offset (in elements, then 0). */
export interface ChunkKey {
  size: number;
  offset: readonly number[];
}

function chunkKeyBytes(rank: number): number {
  return 8 + 8 * (rank + 1);
}

/** Bytes a node takes: the library reads a whole node of 2K children whatever it holds. */
export function btreeNodeBytes(rank: number): number {
  return 24 + BTREE_CHILDREN * 8 + (BTREE_CHILDREN + 1) * chunkKeyBytes(rank);
}

/**
 * A node of a chunk index: `keys` has one more entry than `children` (the last bounds the
 * last child from above). Level 0 children are chunks, higher levels' are nodes.
 */
export function btreeNode(level: number, keys: readonly ChunkKey[], children: readonly number[], siblings: { left: number | null; right: number | null }, rank: number): Uint8Array {
  if (keys.length !== children.length + 1 || children.length > BTREE_CHILDREN) throw new Error('malformed chunk index node');
  const out = new Bytes()
    .text('TREE')
    .u8(1)
    .u8(level)
    .u16(children.length)
    .u64(siblings.left === null ? UNDEFINED_ADDRESS : siblings.left)
    .u64(siblings.right === null ? UNDEFINED_ADDRESS : siblings.right);
  const key = (k: ChunkKey) => {
    out.u32(k.size).u32(0);
    for (const o of k.offset) out.u64(o);
  };
  children.forEach((child, i) => {
    key(keys[i]);
    out.u64(child);
  });
  key(keys[children.length]);
  out.zeros(btreeNodeBytes(rank) - out.length);
  return Uint8Array.from(out.view());
}

/** Data layout, version 3, contiguous: the data's address (undefined when empty) and size. */
export function contiguousLayoutMessage(address: number | null, size: number): Message {
  const out = new Bytes().u8(3).u8(1).u64(address === null ? UNDEFINED_ADDRESS : address).u64(size);
  return { type: MESSAGE.layout, flags: 0, body: Uint8Array.from(out.view()) };
}

/** Link info, version 0: no creation order, no fractal heap (every link is a message in the header). */
export function linkInfoMessage(): Message {
  const out = new Bytes().u8(0).u8(0).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS);
  return { type: MESSAGE.linkInfo, flags: 0, body: Uint8Array.from(out.view()) };
}

export function groupInfoMessage(): Message {
  return { type: MESSAGE.groupInfo, flags: 1, body: Uint8Array.of(0, 0) };
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** A hard link, version 1; a non-ASCII name is marked UTF-8. */
export function linkMessage(name: string, address: number): Message {
  const size = Buffer.byteLength(name, 'utf8');
  const width = size < 0x100 ? 0 : size < 0x10000 ? 1 : 2;
  const utf8 = !isAscii(name);
  const out = new Bytes().u8(1).u8(width | (utf8 ? 0x10 : 0));
  if (utf8) out.u8(1);
  out.uint(size, 1 << width).text(name).u64(address);
  return { type: MESSAGE.link, flags: 0, body: Uint8Array.from(out.view()) };
}

/**
 * Attribute info, version 0: no creation order, no dense storage (every attribute is a message
 * in the header). The library counts a version 2 header's attributes only through this message
 * (without it `H5Oget_info` reports none, though each can be opened), so it goes in every
 * header that has attributes, as the library writes it (flag 4: never shared).
 */
export function attributeInfoMessage(): Message {
  const out = new Bytes().u8(0).u8(0).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS);
  return { type: MESSAGE.attributeInfo, flags: 4, body: Uint8Array.from(out.view()) };
}

/** Attribute, version 3: name, datatype, dataspace, then the encoded values. */
export function attributeMessage(name: string, type: H5Datatype, shape: readonly number[] | null, data: Uint8Array): Message {
  const datatype = encodeDatatype(type).view();
  const dataspace = dataspaceBody(shape);
  const nameSize = Buffer.byteLength(name, 'utf8') + 1;
  const out = new Bytes()
    .u8(3)
    .u8(0)
    .u16(nameSize)
    .u16(datatype.length)
    .u16(dataspace.length)
    .u8(isAscii(name) ? 0 : 1)
    .text(name)
    .u8(0)
    .bytes(datatype)
    .bytes(dataspace)
    .bytes(data);
  return { type: MESSAGE.attribute, flags: 0, body: Uint8Array.from(out.view()) };
}

/** A version 2 object header in one chunk, its checksum last. */
export function objectHeader(messages: readonly Message[]): Uint8Array {
  const size = messages.reduce((sum, m) => sum + 4 + m.body.length, 0);
  const width = size < 0x100 ? 0 : size < 0x10000 ? 1 : 2;
  const out = new Bytes().text('OHDR').u8(2).u8(width).uint(size, 1 << width);
  for (const message of messages) {
    if (message.body.length > MAX_MESSAGE_BYTES) throw new Error(`an HDF5 header message of ${message.body.length} bytes is over the format's limit of ${MAX_MESSAGE_BYTES}`);
    out.u8(message.type).u16(message.body.length).u8(message.flags).bytes(message.body);
  }
  out.u32(lookup3(out.view()));
  return Uint8Array.from(out.view());
}

/** Superblock version 2 (48 bytes): 8-byte offsets and lengths, no extension. */
export function superblock(endOfFile: number, rootAddress: number): Uint8Array {
  const out = new Bytes()
    .bytes(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a))
    .u8(2)
    .u8(8)
    .u8(8)
    .u8(0)
    .u64(0)
    .u64(UNDEFINED_ADDRESS)
    .u64(endOfFile)
    .u64(rootAddress);
  out.u32(lookup3(out.view()));
  return Uint8Array.from(out.view());
}

export const SUPERBLOCK_BYTES = 48;

// ---------------------------------------------------------------- global heap

const HEAP_HEADER_BYTES = 16;
const HEAP_OBJECT_HEADER_BYTES = 16;
/** ASCII strings up to this length are copied character by character. */
const SHORT_STRING = 64;

/** The UTF-8 length of a string for the heap; HDF5 strings cannot hold a NUL. */
export function heapStringLength(value: string): number {
  const n = value.length;
  for (let k = 0; k < n; k++) {
    const c = value.charCodeAt(k);
    if (c === 0) throw new Error('HDF5 strings cannot hold a NUL character');
    if (c >= 0x80) {
      if (value.indexOf('\0', k) >= 0) throw new Error('HDF5 strings cannot hold a NUL character');
      return Buffer.byteLength(value, 'utf8');
    }
  }
  return n;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * A global heap collection filled one string at a time, straight into its buffer: objects get
 * indexes 1, 2, … (reference count 0, as h5py leaves them); `finish` pads the collection to at
 * least MIN_HEAP_COLLECTION_BYTES with a free-space object.
 */
export class HeapCollectionBuilder {
  private buffer = Buffer.alloc(1 << 16);
  private end = HEAP_HEADER_BYTES;
  count = 0;

  /** Whether an object of `length` bytes goes in without passing `limit` bytes (an empty collection takes any). */
  fits(length: number, limit: number): boolean {
    return this.count < MAX_HEAP_OBJECTS && (this.count === 0 || this.end + HEAP_OBJECT_HEADER_BYTES + align8(length) <= limit);
  }

  /** Adds `value` as UTF-8; returns its object index and its length in bytes. */
  add(value: string): { index: number; length: number } {
    const length = heapStringLength(value);
    return { index: this.addString(value, length), length };
  }

  /**
   * Adds `value`, whose UTF-8 length is `length` (heapStringLength), as the next object; returns
   * its index. The buffer is zero-filled, so only the index and the size are written: the
   * reference count, reserved bytes and padding stay 0.
   */
  addString(value: string, length: number): number {
    const padded = align8(length);
    this.room(HEAP_OBJECT_HEADER_BYTES + padded);
    const at = this.end;
    const buffer = this.buffer;
    const index = ++this.count;
    buffer[at] = index & 0xff;
    buffer[at + 1] = index >>> 8;
    buffer[at + 8] = length & 0xff;
    buffer[at + 9] = (length >>> 8) & 0xff;
    buffer[at + 10] = (length >>> 16) & 0xff;
    buffer[at + 11] = length >>> 24;
    const start = at + HEAP_OBJECT_HEADER_BYTES;
    if (length === value.length && length <= SHORT_STRING) {
      // ASCII: one byte a character, copied here (a call into the runtime costs more for a short string).
      for (let k = 0; k < length; k++) buffer[start + k] = value.charCodeAt(k);
    } else {
      buffer.write(value, start, length, 'utf8');
    }
    this.end = start + padded;
    return index;
  }

  private room(bytes: number): void {
    const need = this.end + bytes + HEAP_OBJECT_HEADER_BYTES;
    if (need <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(need, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.end);
    this.buffer = grown;
  }

  /** The collection's bytes (a view of the builder's buffer). */
  finish(): Uint8Array {
    let size = Math.max(MIN_HEAP_COLLECTION_BYTES, this.end);
    // Room left for the free-space object must be none or at least its header.
    if (size > this.end && size - this.end < HEAP_OBJECT_HEADER_BYTES) size += HEAP_OBJECT_HEADER_BYTES;
    this.room(size - this.end);
    this.buffer.fill(0, this.end, size);
    this.buffer.write('GCOL', 0, 'latin1');
    this.buffer[4] = 1;
    this.buffer.fill(0, 5, 8);
    this.buffer.writeBigUInt64LE(BigInt(size), 8);
    // Index 0: the free space, its size counting its own header.
    if (size > this.end) this.buffer.writeBigUInt64LE(BigInt(size - this.end), this.end + 8);
    return this.buffer.subarray(0, size);
  }
}
