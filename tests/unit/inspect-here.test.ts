// `cellar inspect` reads an .h5ad in the command's own thread under V8's watchdog: the same
// report as the task thread's reader, the same messages, and a read that never ends is
// stopped at the limit, inside WebAssembly too.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspectDatasetFile } from '../../src/main/engine/formats/inspect-dataset';
import { inspectHere, inspectsHere } from '../../src/main/engine/formats/inspect-here';

const spin = vi.hoisted(() => ({ on: false, entered: 0 }));

// A WebAssembly function that loops for ever: (func (export "spin") (loop (br 0))).
const SPIN_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x08, 0x01, 0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x00, // export "spin"
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // body: loop br 0 end end
]);

vi.mock('../../src/main/engine/formats/inspect-dataset', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/main/engine/formats/inspect-dataset')>();
  return {
    ...actual,
    inspectLoadedH5ad: (...args: Parameters<typeof actual.inspectLoadedH5ad>) => {
      if (!spin.on) return actual.inspectLoadedH5ad(...args);
      spin.entered++;
      const { spin: loop } = new WebAssembly.Instance(new WebAssembly.Module(SPIN_WASM)).exports as { spin: () => void };
      loop();
      throw new Error('the endless loop returned');
    },
  };
});

const FIXTURES = resolve(__dirname, '../fixtures');
const fixture = (name: string) => join(FIXTURES, 'h5ad', name);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cellar-inspect-here-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which paths the command reads itself', () => {
  it('is every file named .h5ad (any case) and a missing .h5ad; not other formats or a folder so named', () => {
    writeFileSync(join(dir, 'upper.H5AD'), 'x');
    mkdirSync(join(dir, 'folder.h5ad'));
    expect(inspectsHere(fixture('kitchen_sink.h5ad'))).toBe(true);
    expect(inspectsHere(join(dir, 'upper.H5AD'))).toBe(true);
    expect(inspectsHere(join(dir, 'missing.h5ad'))).toBe(true);
    expect(inspectsHere(join(dir, 'folder.h5ad'))).toBe(false);
    expect(inspectsHere(join(FIXTURES, 'formats', 'tenx_v3.h5'))).toBe(false);
    expect(inspectsHere(join(FIXTURES, 'formats', 'loom3.loom'))).toBe(false);
    expect(inspectsHere(join(FIXTURES, 'formats', 'mtx_v3'))).toBe(false);
  });
});

describe('inspectHere', () => {
  it.each(['kitchen_sink.h5ad', 'legacy_pre07.h5ad', 'compress_blosc_zstd.h5ad', 'obs_nullable.h5ad', 'obs_categoricals.h5ad'])('reports %s exactly as the task thread’s reader does', async (name) => {
    const here = await inspectHere(fixture(name), 60_000);
    const there = await inspectDatasetFile(fixture(name));
    expect(here).toEqual(there);
    expect(here.format).toBe('h5ad');
    expect(here.n_obs).toBeGreaterThan(0);
  });

  it('gives the reader’s own message for a file that is not HDF5 and for a missing one', async () => {
    writeFileSync(join(dir, 'text.h5ad'), 'not hdf5 at all');
    await expect(inspectHere(join(dir, 'text.h5ad'), 60_000)).rejects.toMatchObject({ code: 'not_hdf5', message: 'text.h5ad is not an HDF5 file.' });
    await expect(inspectHere(join(dir, 'missing.h5ad'), 60_000)).rejects.toMatchObject({ code: 'not_found', message: 'missing.h5ad does not exist.' });
  });

  it('stops a read that never ends at the time limit, inside WebAssembly, with the time-out message', async () => {
    spin.on = true;
    const started = performance.now();
    try {
      await expect(inspectHere(join(dir, 'endless.h5ad'), 300)).rejects.toMatchObject({
        code: 'timeout',
        message: expect.stringMatching(/^Gave up reading .*endless\.h5ad after 300 ms, the read time limit \(CELLAR_READ_TIMEOUT_MS, default 120 s\)\. /),
      });
    } finally {
      spin.on = false;
    }
    const took = performance.now() - started;
    expect(spin.entered).toBe(1);
    expect(took).toBeGreaterThanOrEqual(300);
    // Stopped by the watchdog, not by the loop ending (it cannot): generous for a busy machine.
    expect(took).toBeLessThan(10_000);
    // The thread carries on: the next read works.
    expect((await inspectHere(fixture('kitchen_sink.h5ad'), 60_000)).format).toBe('h5ad');
  });
});
