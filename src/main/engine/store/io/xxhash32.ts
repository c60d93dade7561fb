// xxHash32, needed for the LZ4 frame header checksum byte.

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32(bytes: Uint8Array, p: number): number {
  return (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, PRIME2)) | 0, 13), PRIME1);
}

export function xxhash32(bytes: Uint8Array, seed = 0): number {
  const len = bytes.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    for (; p + 16 <= len; p += 16) {
      v1 = round(v1, readU32(bytes, p));
      v2 = round(v2, readU32(bytes, p + 4));
      v3 = round(v3, readU32(bytes, p + 8));
      v4 = round(v4, readU32(bytes, p + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  for (; p + 4 <= len; p += 4) {
    h = Math.imul(rotl((h + Math.imul(readU32(bytes, p), PRIME3)) | 0, 17), PRIME4);
  }
  for (; p < len; p++) {
    h = Math.imul(rotl((h + Math.imul(bytes[p], PRIME5)) | 0, 11), PRIME1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}
