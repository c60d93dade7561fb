// An HDF5 file written front to back by this process, without the HDF5 library:
// dataset values go to the end of the file as they come, and the metadata that
// points at them (object headers, the superblock) is written when the file is
// closed, when every address is known. Variable-length strings go into global
// heap collections shared by all datasets and attributes. Byte layouts are in
// hdf5-format.ts. The result is what the HDF5 library itself writes with v1.8
// format bounds, as far as an .h5ad uses it: groups, attributes, contiguous datasets,
// and chunked ones (filtered or not) indexed by version 1 B-trees.
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  attributeInfoMessage,
  attributeMessage,
  BTREE_CHILDREN,
  btreeNode,
  btreeNodeBytes,
  chunkedLayoutMessage,
  contiguousLayoutMessage,
  dataspaceBody,
  datatypeMessage,
  datatypeSize,
  fillValueMessage,
  groupInfoMessage,
  HeapCollectionBuilder,
  heapStringLength,
  linkInfoMessage,
  linkMessage,
  MAX_MESSAGE_BYTES,
  MESSAGE,
  objectHeader,
  superblock,
  SUPERBLOCK_BYTES,
  VLEN_REFERENCE_BYTES,
  type ChunkKey,
  type H5Datatype,
  type Message,
} from './hdf5-format';

/** Heap collections are cut at about this size (a longer string gets one of its own). */
const COLLECTION_TARGET_BYTES = 1 << 20;

/**
 * Where strings went: for string i, its collection (`collections[which[i]]`, whose address is
 * known once it is written), its object index there and its length in bytes. Typed arrays, not
 * an object a string: an export's obs names can be millions.
 */
interface StringReferences {
  collections: HeapCollection[];
  which: Uint32Array;
  index: Uint32Array;
  length: Uint32Array;
}

class HeapCollection {
  /** Null once written (the references keep only the address). */
  builder: HeapCollectionBuilder | null = new HeapCollectionBuilder();
  address = -1;
}

type Shape = readonly number[] | null;

/**
 * Something this writer does not lay out (an attribute over the 64 KiB a header message can
 * hold, which HDF5 moves to dense attribute storage): the caller writes the file with the
 * HDF5 library instead.
 */
export class NeedsHdf5Library extends Error {}

interface Attribute {
  name: string;
  type: H5Datatype;
  shape: Shape;
  /** The values as stored; variable-length strings are resolved when the header is written. */
  encode: () => Uint8Array;
}

interface GroupNode {
  kind: 'group';
  children: Map<string, Node>;
  attributes: Attribute[];
}

interface DatasetNode {
  kind: 'dataset';
  type: H5Datatype;
  shape: Shape;
  /** Maximum dimensions (null: unlimited); the dimensions when absent. */
  maxshape?: readonly (number | null)[];
  /**
   * Where the values are: contiguous at an address, `deferred` (holding heap references, written
   * at close), or in chunks found through a B-tree.
   */
  data: { address: number | null; size: number } | { deferred: () => Uint8Array } | { chunked: { btree: number | null; chunk: readonly number[]; filter: Message | null } };
  attributes: Attribute[];
}

type Node = GroupNode | DatasetNode;

function elementCount(shape: Shape): number {
  return shape === null ? 1 : shape.reduce((a, b) => a * b, 1);
}

export class Hdf5File {
  private readonly fd: number;
  private end = SUPERBLOCK_BYTES;
  private readonly root: GroupNode = { kind: 'group', children: new Map(), attributes: [] };
  private heap = new HeapCollection();
  private closed = false;

  /** `write` is fs.writeSync unless a test stands in for the file system (a full disk). */
  constructor(
    readonly path: string,
    private readonly write: typeof writeSync = writeSync,
  ) {
    this.fd = openSync(path, 'w');
  }

  // ---------------------------------------------------------------- structure

  private lookup(path: string): Node {
    let node: Node = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      const next: Node | undefined = node.kind === 'group' ? node.children.get(part) : undefined;
      if (!next) throw new Error(`no object at ${path}`);
      node = next;
    }
    return node;
  }

  /** Links `node` into its parent group under the last part of `path`. */
  private place(path: string, node: Node): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop();
    if (!name) throw new Error(`cannot create an object at ${path}`);
    const parent = this.lookup(parts.join('/'));
    if (parent.kind !== 'group') throw new Error(`${parts.join('/')} is not a group`);
    if (parent.children.has(name)) throw new Error(`${path} already exists`);
    parent.children.set(name, node);
  }

  group(path: string): void {
    this.place(path, { kind: 'group', children: new Map(), attributes: [] });
  }

  /** A dataset whose values are `bytes`, written now (contiguous). */
  dataset(path: string, type: H5Datatype, shape: Shape, bytes: Uint8Array): void {
    this.checkSize(path, type, shape, bytes.byteLength);
    const address = bytes.byteLength ? this.append(bytes) : null;
    this.place(path, { kind: 'dataset', type, shape, data: { address, size: bytes.byteLength }, attributes: [] });
  }

  /** Variable-length strings, stored in heap collections; `shape` null is a scalar. */
  strings(path: string, shape: Shape, values: readonly string[]): void {
    const references = this.heapStrings(values);
    this.place(path, { kind: 'dataset', type: { kind: 'vlen-string' }, shape, data: { deferred: () => encodeReferences(references) }, attributes: [] });
  }

  /**
   * A compound dataset: `strings` (its string fields' values, field after field) go to the heap
   * now; `encode` gets their references (16 bytes each, in the same order) when the file is
   * closed and returns the records' bytes.
   */
  records(path: string, type: Extract<H5Datatype, { kind: 'compound' }>, rows: number, strings: readonly string[], encode: (references: Uint8Array) => Uint8Array): void {
    const references = this.heapStrings(strings);
    this.place(path, { kind: 'dataset', type, shape: [rows], data: { deferred: () => encode(encodeReferences(references)) }, attributes: [] });
  }

  attribute(path: string, name: string, type: H5Datatype, shape: Shape, bytes: Uint8Array): void {
    this.addAttribute(path, { name, type, shape, encode: () => bytes });
  }

  stringAttribute(path: string, name: string, shape: Shape, values: readonly string[]): void {
    const references = this.heapStrings(values);
    this.addAttribute(path, { name, type: { kind: 'vlen-string' }, shape, encode: () => encodeReferences(references) });
  }

  private addAttribute(path: string, attribute: Attribute): void {
    const node = this.lookup(path);
    const size = attributeMessage(attribute.name, attribute.type, attribute.shape, new Uint8Array(elementCount(attribute.shape) * datatypeSize(attribute.type))).body.length;
    if (size > MAX_MESSAGE_BYTES) throw new NeedsHdf5Library(`attribute ${attribute.name} of ${path} takes ${size} bytes`);
    if (node.attributes.some((a) => a.name === attribute.name)) throw new Error(`${path} already has an attribute ${attribute.name}`);
    node.attributes.push(attribute);
  }

  private checkSize(path: string, type: H5Datatype, shape: Shape, bytes: number): void {
    const expected = elementCount(shape) * datatypeSize(type);
    if (bytes !== expected) throw new Error(`${path}: ${bytes} bytes for ${expected}`);
  }

  // ---------------------------------------------------------------- chunked datasets

  /**
   * A chunked dataset whose chunks span the trailing dimensions whole, along the first: each
   * `add` stores chunk `index` (already filtered, whole chunks only), in any order, and
   * `finish` writes the chunk index and places the dataset with its final shape.
   */
  chunked(
    path: string,
    type: H5Datatype,
    chunk: readonly number[],
    filter: Message | null,
  ): { add: (index: number, stored: Uint8Array) => void; finish: (shape: readonly number[], maxshape?: readonly (number | null)[]) => void } {
    const rank = chunk.length;
    const stored: { key: ChunkKey; child: number }[] = [];
    const offset = (n: number) => [n * chunk[0], ...new Array<number>(rank).fill(0)];
    return {
      add: (index, bytes) => {
        if (stored[index]) throw new Error(`${path}: chunk ${index} stored twice`);
        stored[index] = { key: { size: bytes.byteLength, offset: offset(index) }, child: this.append(bytes) };
      },
      finish: (shape, maxshape) => {
        const entries = Array.from(stored);
        if (shape.length !== rank || Math.ceil(shape[0] / chunk[0]) !== entries.length || entries.some((e) => !e)) {
          throw new Error(`${path}: ${entries.filter(Boolean).length} chunks of ${chunk[0]} for ${shape[0]} rows`);
        }
        // The last key bounds the last chunk from above.
        const bound: ChunkKey = { size: 0, offset: [entries.length * chunk[0], ...chunk.slice(1), datatypeSize(type)] };
        const btree = entries.length ? this.writeChunkIndex(entries, bound, rank) : null;
        this.place(path, { kind: 'dataset', type, shape, maxshape, data: { chunked: { btree, chunk, filter } }, attributes: [] });
      },
    };
  }

  /** A version 1 B-tree over the chunks, leaves first, each level's nodes linked to their siblings; returns the root. */
  private writeChunkIndex(chunks: readonly { key: ChunkKey; child: number }[], bound: ChunkKey, rank: number): number {
    let level = 0;
    let entries = chunks;
    const nodeBytes = btreeNodeBytes(rank);
    for (;;) {
      const groups: (typeof entries)[] = [];
      for (let i = 0; i < entries.length; i += BTREE_CHILDREN) groups.push(entries.slice(i, i + BTREE_CHILDREN));
      const base = this.end;
      const address = (i: number) => base + i * nodeBytes;
      groups.forEach((group, i) => {
        const keys = [...group.map((e) => e.key), i + 1 < groups.length ? groups[i + 1][0].key : bound];
        const siblings = { left: i > 0 ? address(i - 1) : null, right: i + 1 < groups.length ? address(i + 1) : null };
        this.append(btreeNode(level, keys, group.map((e) => e.child), siblings, rank));
      });
      if (groups.length === 1) return base;
      entries = groups.map((group, i) => ({ key: group[0].key, child: address(i) }));
      level++;
    }
  }

  // ---------------------------------------------------------------- heap

  private heapStrings(values: readonly string[]): StringReferences {
    const n = values.length;
    const references: StringReferences = { collections: [], which: new Uint32Array(n), index: new Uint32Array(n), length: new Uint32Array(n) };
    let last: HeapCollection | null = null;
    for (let i = 0; i < n; i++) {
      const value = values[i]!;
      const length = heapStringLength(value);
      if (!this.heap.builder!.fits(length, COLLECTION_TARGET_BYTES)) this.flushHeap();
      if (last !== this.heap) {
        references.collections.push(this.heap);
        last = this.heap;
      }
      references.which[i] = references.collections.length - 1;
      references.index[i] = this.heap.builder!.addString(value, length);
      references.length[i] = length;
    }
    return references;
  }

  private flushHeap(): void {
    if (this.heap.builder!.count === 0) return;
    this.heap.address = this.append(this.heap.builder!.finish());
    this.heap.builder = null;
    this.heap = new HeapCollection();
  }

  // ---------------------------------------------------------------- bytes

  private append(bytes: Uint8Array): number {
    const at = this.end;
    writeAll(this.write, this.fd, bytes, at);
    this.end += bytes.byteLength;
    return at;
  }

  private writeAt(bytes: Uint8Array, at: number): void {
    writeAll(this.write, this.fd, bytes, at);
  }

  // ---------------------------------------------------------------- close

  /** Writes the heap, the deferred datasets, every object header and the superblock, and closes. */
  close(): void {
    if (this.closed) return;
    this.flushHeap();
    const rootAddress = this.writeHeaders(this.root);
    this.writeAt(superblock(this.end, rootAddress), 0);
    this.closed = true;
    closeSync(this.fd);
  }

  /** Closes without finishing (the caller removes the file). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Children first, so each group's links know their addresses. */
  private writeHeaders(node: Node): number {
    const messages: Message[] = [];
    if (node.kind === 'group') {
      messages.push(linkInfoMessage(), groupInfoMessage());
      for (const [name, child] of node.children) messages.push(linkMessage(name, this.writeHeaders(child)));
    } else {
      let data = node.data;
      messages.push({ type: MESSAGE.dataspace, flags: 0, body: dataspaceBody(node.shape, node.maxshape) }, datatypeMessage(node.type));
      if ('chunked' in data) {
        const { btree, chunk, filter } = data.chunked;
        messages.push(fillValueMessage(node.type, true));
        if (filter) messages.push(filter);
        messages.push(chunkedLayoutMessage(btree, chunk, datatypeSize(node.type)));
      } else {
        if ('deferred' in data) {
          const bytes = data.deferred();
          this.checkSize('dataset', node.type, node.shape, bytes.byteLength);
          data = { address: bytes.byteLength ? this.append(bytes) : null, size: bytes.byteLength };
        }
        messages.push(fillValueMessage(node.type), contiguousLayoutMessage(data.address, data.size));
      }
    }
    if (node.attributes.length) messages.push(attributeInfoMessage());
    for (const a of node.attributes) messages.push(attributeMessage(a.name, a.type, a.shape, a.encode()));
    return this.append(objectHeader(messages));
  }
}

function encodeReferences(references: StringReferences): Uint8Array {
  const n = references.which.length;
  const out = new Uint8Array(n * VLEN_REFERENCE_BYTES);
  const view = new DataView(out.buffer);
  const addresses = references.collections.map((c) => {
    if (c.address < 0) throw new Error('a string was referenced before its heap collection was written');
    return c.address;
  });
  for (let i = 0; i < n; i++) {
    const address = addresses[references.which[i]];
    const at = i * VLEN_REFERENCE_BYTES;
    view.setUint32(at, references.length[i], true);
    view.setUint32(at + 4, address % 0x100000000, true);
    view.setUint32(at + 8, Math.floor(address / 0x100000000), true);
    view.setUint32(at + 12, references.index[i], true);
  }
  return out;
}

function writeAll(write: typeof writeSync, fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength; ) {
    done += write(fd, bytes, done, bytes.byteLength - done, position + done);
  }
}
