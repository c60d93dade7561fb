// Unsigned LEB128 varints, the store's encoding of column and cell deltas (store format 2):
// seven bits a byte, low bits first, the high bit set on every byte but a value's last. A
// delta below 128 takes one byte.

/**
 * Each list's deltas (`deltas[offsets[r]..offsets[r + 1])`: a row's, or a gene's) as varints;
 * `byteOffsets` gets where each list's bytes start (and the end); returns the bytes written.
 */
export function encodeVarints(deltas: Uint16Array | Uint32Array, offsets: Int32Array, nLists: number, out: Uint8Array, byteOffsets: Int32Array): number {
  let at = 0;
  byteOffsets[0] = 0;
  for (let list = 0; list < nLists; list++) {
    for (let k = offsets[list], end = offsets[list + 1]; k < end; k++) {
      let value = deltas[k];
      while (value >= 0x80) {
        out[at++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
      out[at++] = value;
    }
    byteOffsets[list + 1] = at;
  }
  return at;
}

/**
 * Decodes `n` unsigned LEB128 varints from the start of bytes[0..size) into `out`; returns the
 * bytes they took, or −1 when they do not fit in `size` or one does not fit 32 bits.
 */
export function decodeVarints(bytes: Uint8Array, size: number, n: number, out: Uint32Array): number {
  let p = 0;
  for (let k = 0; k < n; k++) {
    if (p >= size) return -1;
    let byte = bytes[p++];
    if (byte < 0x80) {
      out[k] = byte;
      continue;
    }
    let value = byte & 0x7f;
    let shift = 7;
    do {
      if (p >= size || shift > 28) return -1;
      byte = bytes[p++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    // A fifth byte holds bits 28–31 only.
    if (shift === 35 && byte > 0x0f) return -1;
    out[k] = value >>> 0;
  }
  return p;
}

/** From entry `k` at byte `p` of varints, the byte where entry `target` (≥ k) starts; −1 past `size`. */
export function skipVarints(bytes: Uint8Array, size: number, p: number, k: number, target: number): number {
  // The next `need` bytes hold `need` varint ends less one for each continuation byte among
  // them (high bit set): as many more bytes are needed, until none are.
  let need = target - k;
  while (need > 0) {
    const end = p + need;
    if (end > size) return -1;
    let continuing = 0;
    for (let i = p; i < end; i++) continuing += bytes[i] >>> 7;
    p = end;
    need = continuing;
  }
  return p;
}

/**
 * Decodes `count` varint deltas from byte `p` as one row's columns (their running sum from 0)
 * into out[outAt…]; returns the byte after them, or −1 when they run past `size` or one is not
 * below 2^31 (no column is). `bytes` may go on past `size` (what is read there is refused
 * afterwards). Integer arithmetic throughout: a sum past 2^31 would not be a column either.
 */
export function decodeVarintColumns(bytes: Uint8Array, size: number, p: number, count: number, out: Int32Array, outAt: number): number {
  let column = 0;
  const end = outAt + count;
  for (let o = outAt; o < end; o++) {
    let byte = bytes[p++] | 0;
    if (byte >= 0x80) {
      let value = byte & 0x7f;
      let shift = 7;
      do {
        if (shift > 28 || p >= size) return -1;
        byte = bytes[p++] | 0;
        value |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte >= 0x80);
      if (value < 0 || (shift === 35 && byte > 0x0f)) return -1;
      byte = value;
    }
    column = (column + byte) | 0;
    out[o] = column;
  }
  return p > size ? -1 : p;
}
