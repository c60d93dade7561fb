// copyAndHashFile: import's one read of each file gives the same (lamindb-compatible) hash as
// hashFile and a byte-identical copy, at the sizes where the hash changes recipe. The expected
// hashes are registry-hash.test.ts's vectors (computed independently with Python's hashlib), on
// files whose byte i is ((i * 7919) ^ (i >> 11)) & 0xff.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { writePatternFile } from './helpers/pattern-file';
import { copyAndHashFile, HASH_CHUNK_SIZE, hashFile } from '../../src/main/registry/hash';

const MiB = 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-copy-hash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('copyAndHashFile', () => {
  it.each([
    [0, '1B2M2Y8AsgTpgAmY7PhCfg', 'md5'],
    [1, 'k7iFrf4NoInN9jSQT9WfcQ', 'md5'],
    [1000, 'BgIcGoKE2P6SilIQ1Fq4qg', 'md5'],
    [3 * MiB + 17, 'wG30_9BVzzFgLdXEr-3WUQ', 'md5'],
    [HASH_CHUNK_SIZE, '304_GUpK9oUNzWmyyXgQWg', 'md5'],
    // One byte past 50 MiB: the first and the last 50 MiB overlap in all but one byte.
    [HASH_CHUNK_SIZE + 1, 'cw1lciGeVsbEcsM1LqgyCb', 'sha1-fl'],
    [110 * MiB, '1A7JihXp_VVJcouTC7d3-H', 'sha1-fl'],
  ])('a file of %i bytes: lamindb hash %s (%s) and an identical copy', async (size, expected, hashType) => {
    const source = join(dir, `source-${size}.bin`);
    const target = join(dir, `copy-${size}.bin`);
    writePatternFile(source, size);
    const result = await copyAndHashFile(source, target);
    expect({ hash: result.hash, hashType: result.hashType, size: result.size }).toEqual({ hash: expected, hashType, size });
    expect(await hashFile(source)).toEqual({ hash: expected, hashType, size });
    expect(readFileSync(target).equals(readFileSync(source))).toBe(true);
    rmSync(source);
    rmSync(target);
  });

  it('replaces a file already at the target', async () => {
    const source = join(dir, 'replace-source.bin');
    const target = join(dir, 'replace-target.bin');
    writePatternFile(source, 9 * MiB + 5);
    writeFileSync(target, Buffer.alloc(20 * MiB, 7));
    const result = await copyAndHashFile(source, target);
    expect(result.size).toBe(9 * MiB + 5);
    expect(readFileSync(target).equals(readFileSync(source))).toBe(true);
  });

  it('throws the file system error when the target cannot be written', async () => {
    const source = join(dir, 'nowhere-source.bin');
    writePatternFile(source, 1000);
    const error = await copyAndHashFile(source, join(dir, 'missing-folder', 'copy.bin')).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('stops with a cancelled error when the signal is aborted, before writing anything', async () => {
    const source = join(dir, 'cancel-source.bin');
    const target = join(dir, 'cancel-target.bin');
    writePatternFile(source, 1000);
    const controller = new AbortController();
    controller.abort();
    const error = await copyAndHashFile(source, target, controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CellarError);
    expect((error as CellarError).code).toBe('cancelled');
    expect(existsSync(target)).toBe(false);
  });
});
