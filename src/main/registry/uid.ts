// Base62 uids shaped like lamindb's: versioned records carry a random stem plus a
// 4-char version suffix that counts up in base62 ("0000", "0001", … "000z", "0010").
import { randomBytes } from 'node:crypto';

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const FIRST_VERSION_SUFFIX = '0000';

export const UID_LENGTHS = {
  artifact: { stem: 16, full: 20 },
  collection: { stem: 16, full: 20 },
  transform: { stem: 12, full: 16 },
  run: { full: 20 },
} as const;

// 248 = 4 × 62: bytes at or above it are rejected so every character is equally likely.
const UNBIASED_LIMIT = 248;

export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i] < UNBIASED_LIMIT) out += BASE62_ALPHABET[bytes[i] % 62];
    }
  }
  return out;
}

export function newArtifactUid(): { uid: string; stem: string; versionSuffix: string } {
  const stem = randomBase62(UID_LENGTHS.artifact.stem);
  return { uid: stem + FIRST_VERSION_SUFFIX, stem, versionSuffix: FIRST_VERSION_SUFFIX };
}

export function newCollectionUid(): string {
  return randomBase62(UID_LENGTHS.collection.stem) + FIRST_VERSION_SUFFIX;
}

export function newTransformUid(): string {
  return randomBase62(UID_LENGTHS.transform.stem) + FIRST_VERSION_SUFFIX;
}

export function newRunUid(): string {
  return randomBase62(UID_LENGTHS.run.full);
}

/** The next base62 number with the same width: "0009" → "000A", "000z" → "0010". */
export function incrementBase62(value: string): string {
  const digits = [...value];
  for (let i = digits.length - 1; i >= 0; i--) {
    const index = BASE62_ALPHABET.indexOf(digits[i]);
    if (index < 0) throw new Error(`"${value}" is not a base62 string.`);
    if (index < 61) {
      digits[i] = BASE62_ALPHABET[index + 1];
      return digits.join('');
    }
    digits[i] = '0';
  }
  throw new Error(`Version suffix "${value}" has no successor of the same width.`);
}

export function isBase62(value: string): boolean {
  return /^[0-9A-Za-z]+$/.test(value);
}
