// A damaged file that makes the HDF5 library stop gives the user one message naming the
// element, first line of stderr, and nothing of the library's own "Aborted(…)" line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellarAsync } from './helpers/cellar';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'h5ad');
const dir = mkdtempSync(join(tmpdir(), 'cellar-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic damage: 30 bytes changed in the last three quarters of the file (the data). */
function damage(bytes: Buffer, seed: number): Buffer {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Buffer.from(bytes);
  for (let i = 0; i < 30; i++) out[Math.floor(bytes.length / 4 + next() * (bytes.length * 0.75))] = Math.floor(next() * 256);
  return out;
}

describe('a damaged compressed file', () => {
  it('is refused with the element named first, never the library’s abort line', async () => {
    const names = ['compress_lzf', 'compress_lz4', 'compress_gzip_shuffle', 'compress_blosc_lz4'];
    const results = [];
    for (const name of names) {
      const original = readFileSync(join(FIXTURES, `${name}.h5ad`));
      for (let seed = 1; seed <= 6; seed++) {
        const path = join(dir, `${name}-${seed}.h5ad`);
        writeFileSync(path, damage(original, seed * 7919));
        results.push({ path, ...(await cellarAsync(['inspect', path], { home: null })) });
      }
    }
    for (const r of results) {
      expect(r.stderr, r.path).not.toMatch(/Aborted\(|RuntimeError|\n\s+at /);
      if (r.code !== 0) {
        expect(r.code, r.path).toBe(1);
        expect(r.stderr.split('\n')[0], r.path).toMatch(/\.h5ad/);
      }
    }
    // The library did stop on some of them: the path that used to print its abort line is exercised.
    expect(results.filter((r) => r.stderr.includes('the HDF5 library stopped while decoding it')).length).toBeGreaterThan(0);
  }, 240_000);
});
