// Files whose byte i is ((i * 7919) ^ (i >> 11)) & 0xff: the hash tests' inputs, whose expected
// hashes were computed independently with Python's hashlib.
import { closeSync, openSync, writeSync } from 'node:fs';

const BLOCK = 4 * 1024 * 1024;

export function writePatternFile(path: string, size: number): void {
  const block = new Uint8Array(BLOCK);
  const fd = openSync(path, 'w');
  try {
    for (let start = 0; start < size; start += block.length) {
      const length = Math.min(block.length, size - start);
      for (let j = 0; j < length; j++) {
        const i = start + j;
        block[j] = ((i * 7919) ^ Math.floor(i / 2048)) & 0xff;
      }
      writeSync(fd, block, 0, length);
    }
  } finally {
    closeSync(fd);
  }
}
