// Randomly damaged copies of the fixtures: each must give a clear error or a result,
// never a hang or a crash of the process (reads run in a worker under a time limit).
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callInWorker } from '../../src/main/engine/threads/worker-call';
import type { InspectOutcome } from '../../src/main/engine/formats/h5ad/inspect-file';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'h5ad');

/** Deterministic xorshift so a failing case can be reproduced from its name. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function corrupt(bytes: Buffer, seed: number, region: 'header' | 'metadata' | 'anywhere'): Buffer {
  const out = Buffer.from(bytes);
  const r = rng(seed);
  const limit = region === 'header' ? Math.min(96, out.length) : region === 'metadata' ? Math.min(4096, out.length) : out.length;
  const flips = 1 + Math.floor(r() * 16);
  for (let i = 0; i < flips; i++) out[Math.floor(r() * limit)] = Math.floor(r() * 256);
  return out;
}

describe('fuzzing the reader with damaged files', () => {
  it('gives an error or a result for every damaged copy, within the time limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellar-fuzz-'));
    try {
      const sources = readdirSync(FIXTURES).filter((f) => f.endsWith('.h5ad')).sort();
      const cases: string[] = [];
      let seed = 1;
      for (const name of sources.slice(0, 12)) {
        const bytes = readFileSync(join(FIXTURES, name));
        for (const region of ['header', 'metadata', 'anywhere'] as const) {
          const path = join(dir, `${name.replace('.h5ad', '')}-${region}-${seed}.h5ad`);
          writeFileSync(path, corrupt(bytes, seed++, region));
          cases.push(path);
        }
      }
      // A truncated copy and an empty file too.
      const first = join(FIXTURES, sources[0]!);
      copyFileSync(first, join(dir, 'empty.h5ad'));
      writeFileSync(join(dir, 'empty.h5ad'), Buffer.alloc(0));
      cases.push(join(dir, 'empty.h5ad'));

      const outcomes: InspectOutcome[] = [];
      for (let i = 0; i < cases.length; i += 12) {
        const batch = cases.slice(i, i + 12);
        outcomes.push(...(await callInWorker<InspectOutcome[]>('inspectEach', [batch], { timeoutMs: 90_000, what: `reading ${batch.length} damaged files` })));
      }
      expect(outcomes).toHaveLength(cases.length);
      const failures = outcomes.filter((o) => !o.ok);
      // Damaged headers must be refused, and every refusal is a CellarError with a readable message.
      expect(failures.length).toBeGreaterThan(cases.length / 3);
      for (const [i, o] of outcomes.entries()) {
        if (o.ok) {
          expect(o.report.n_obs).toBeGreaterThanOrEqual(0);
          continue;
        }
        // Every refusal is a CellarError (never an uncaught error of another kind).
        expect(o.error.name, `${cases[i]}: ${o.error.message}`).toBe('CellarError');
        expect(o.error.message.split('\n')[0]!.length, cases[i]).toBeGreaterThan(10);
        expect(o.error.message).not.toMatch(/\n\s+at /);
      }
      expect(outcomes.at(-1)).toMatchObject({ ok: false, error: { code: 'not_hdf5' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
