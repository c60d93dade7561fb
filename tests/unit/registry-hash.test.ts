// Hash vectors were computed independently with /usr/bin/python3 (hashlib + base64) following
// lamindb's recipe, on files whose byte i is ((i * 7919) ^ (i >> 11)) & 0xff.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellarError } from '../../src/shared/errors';
import { writePatternFile } from './helpers/pattern-file';
import { HASH_CHUNK_SIZE, hashCollection, hashDirectory, hashFile, hashFolder } from '../../src/main/registry/hash';

const MiB = 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-hash-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('hashFile matches lamindb', () => {
  it.each([
    [0, '1B2M2Y8AsgTpgAmY7PhCfg'],
    [1, 'k7iFrf4NoInN9jSQT9WfcQ'],
    [1000, 'BgIcGoKE2P6SilIQ1Fq4qg'],
    [3 * MiB + 17, 'wG30_9BVzzFgLdXEr-3WUQ'],
  ])('md5 of a small file of %i bytes', async (size, expected) => {
    const path = join(dir, `small-${size}.bin`);
    writePatternFile(path, size);
    await expect(hashFile(path)).resolves.toEqual({ hash: expected, hashType: 'md5', size });
  });

  it('hashes text the way lamindb does', async () => {
    const path = join(dir, 'hello.txt');
    writeFileSync(path, 'hello world\n');
    expect((await hashFile(path)).hash).toBe('b1kCrCNwJL3QwXbLkwY9xA');
  });

  it('uses md5 up to exactly 50 MiB and sha1-fl one byte past it', async () => {
    const atLimit = join(dir, 'at-limit.bin');
    writePatternFile(atLimit, HASH_CHUNK_SIZE);
    expect(await hashFile(atLimit)).toEqual({ hash: '304_GUpK9oUNzWmyyXgQWg', hashType: 'md5', size: HASH_CHUNK_SIZE });
    rmSync(atLimit);

    const past = join(dir, 'past-limit.bin');
    writePatternFile(past, HASH_CHUNK_SIZE + 1);
    expect(await hashFile(past)).toEqual({ hash: 'cw1lciGeVsbEcsM1LqgyCb', hashType: 'sha1-fl', size: HASH_CHUNK_SIZE + 1 });
    rmSync(past);
  });

  it('uses sha1 of the first and last 50 MiB for a 110 MiB file', async () => {
    const big = join(dir, 'big.bin');
    writePatternFile(big, 110 * MiB);
    expect(await hashFile(big)).toEqual({ hash: '1A7JihXp_VVJcouTC7d3-H', hashType: 'sha1-fl', size: 110 * MiB });
    rmSync(big);
  });

  it('stops with a cancelled error when the signal is aborted', async () => {
    const path = join(dir, 'cancel.bin');
    writePatternFile(path, 1000);
    const controller = new AbortController();
    controller.abort();
    const error = await hashFile(path, controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CellarError);
    expect((error as CellarError).code).toBe('cancelled');
  });
});

describe('folder and collection hashes', () => {
  const memberHashes = ['k7iFrf4NoInN9jSQT9WfcQ', 'BgIcGoKE2P6SilIQ1Fq4qg', 'wG30_9BVzzFgLdXEr-3WUQ'];

  it('hashFolder is md5 over the md5 digests of the sorted per-file hashes', () => {
    const files = memberHashes.map((hash, i) => ({ path: `f${i}`, hash }));
    expect(hashFolder(files)).toEqual({ hash: 'q0sKvGv_J1aUqFEKXC6k5w', hashType: 'md5-d' });
    expect(hashFolder([...files].reverse()).hash).toBe('q0sKvGv_J1aUqFEKXC6k5w');
  });

  it('hashDirectory walks nested folders and agrees with hashFolder', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'nested', 'deeper'), { recursive: true });
    writePatternFile(join(folder, 'a.bin'), 1);
    writePatternFile(join(folder, 'nested', 'b.bin'), 1000);
    writePatternFile(join(folder, 'nested', 'deeper', 'c.bin'), 3 * MiB + 17);
    const result = await hashDirectory(folder);
    expect(result.hash).toBe('q0sKvGv_J1aUqFEKXC6k5w');
    expect(result.hashType).toBe('md5-d');
    expect(result.nFiles).toBe(3);
    expect(result.size).toBe(1 + 1000 + 3 * MiB + 17);
  });

  it('hashCollection ignores member order and repeats', () => {
    expect(hashCollection(memberHashes)).toBe('ylFaUmcm25bOwBIU_PPi3A');
    expect(hashCollection([memberHashes[2], memberHashes[0], memberHashes[1], memberHashes[0]])).toBe('ylFaUmcm25bOwBIU_PPi3A');
  });
});
