// Progress in words a biologist uses, with counts that move: the line a job shows
// (describeProgress), import's file-by-file check and byte-by-byte copy, PCA's reading and
// passes, and an export's writing of expression values, from the operations themselves.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProgress } from '../../src/shared/progress-text';
import { formatBytesOf } from '../../src/shared/format-number';
import type { Progress } from '../../src/shared/contract';
import { copyAndHashFile } from '../../src/main/registry/hash';
import { openRegistry, type Registry } from '../../src/main/registry/registry';
import { importFiles } from '../../src/main/engine/ops/import';
import { concatenateCollection } from '../../src/main/engine/ops/concatenate';
import { embedStore, pcaProgress } from '../../src/main/engine/ops/embed';
import { exportQueryToH5ad } from '../../src/main/engine/ops/export';
import { removeDir, tempDir } from './helpers/cellar';
import { makeSeedInputs } from './helpers/workflow-inputs';

describe('the progress line', () => {
  it('says cells, bytes and steps in their own words', () => {
    expect(describeProgress({ phase: 'Reading expression values', done: 40_000, total: 200_000, unit: 'cells' })).toBe('Reading expression values (40,000 of 200,000 cells)');
    expect(describeProgress({ phase: 'Copying pbmc2.h5ad, file 2 of 4', done: 1.2 * 1024 ** 3, total: 3.4 * 1024 ** 3, unit: 'bytes' })).toBe('Copying pbmc2.h5ad, file 2 of 4 (1.2 of 3.4 GiB)');
    expect(describeProgress({ phase: 'Computing components, pass 2 of 5', done: 2, total: 5, unit: 'said' })).toBe('Computing components, pass 2 of 5');
    // Phases that name no unit keep a bare count.
    expect(describeProgress({ phase: 'Reading the cell and gene tables of a.h5ad', done: 1, total: 4 })).toBe('Reading the cell and gene tables of a.h5ad (1 of 4)');
    expect(describeProgress({ phase: 'Saving the store atlas', done: 0, total: 1 })).toBe('Saving the store atlas');
  });

  it('writes part of a size in the unit of the whole', () => {
    expect(formatBytesOf(0, 3.4 * 1024 ** 3)).toBe('0.0 of 3.4 GiB');
    expect(formatBytesOf(512 * 1024, 900 * 1024)).toBe('512 of 900 KiB');
    expect(formatBytesOf(300, 900)).toBe('300 of 900 B');
    expect(formatBytesOf(5 * 1024 ** 2, 250 * 1024 ** 2)).toBe('5 of 250 MiB');
  });

  it('names PCA’s steps', () => {
    expect(describeProgress(pcaProgress({ phase: 'statistics', done: 40_000, total: 200_000 }))).toBe('Reading expression values (40,000 of 200,000 cells)');
    expect(describeProgress(pcaProgress({ phase: 'iterations', done: 2, total: 5 }))).toBe('Computing components, pass 2 of up to 5');
    expect(describeProgress(pcaProgress({ phase: 'scores', done: 0, total: 1 }))).toBe('Placing each cell on the components');
  });
});

describe('operations report moving counts', () => {
  let root: string;
  let home: string;
  let registry: Registry;
  let files: ReturnType<typeof makeSeedInputs>;
  const lines = (events: Progress[]) => events.map(describeProgress);

  beforeAll(() => {
    root = tempDir('progress-wording');
    home = join(root, 'home');
    files = makeSeedInputs(join(root, 'in'));
    registry = openRegistry(home);
  }, 120_000);

  afterAll(() => {
    registry?.close();
    removeDir(root);
  });

  it('a copy reports the bytes copied so far, up to the whole file', async () => {
    const big = join(root, 'big.bin');
    writeFileSync(big, Buffer.alloc(18 * 1024 * 1024, 7));
    const seen: Array<[number, number]> = [];
    await copyAndHashFile(big, join(root, 'big-copy.bin'), undefined, (copied, size) => seen.push([copied, size]));
    const size = 18 * 1024 * 1024;
    // ext4 cannot clone, so the copy goes in 4 MiB steps; a cloning file system reports once.
    expect(seen[seen.length - 1]).toEqual([size, size]);
    expect(seen.every(([, s]) => s === size)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
    if (seen.length > 1) expect(seen[0]![0]).toBe(4 * 1024 * 1024);
  });

  it('import checks file by file, naming each and its place in the list', async () => {
    const events: Progress[] = [];
    await importFiles({ registry, home, files: [files.s1, files.s2, files.s3], collectionKey: 'seed', onProgress: (p) => events.push(p) });
    const checking = lines(events).filter((l) => l.startsWith('Checking'));
    expect(checking[0]).toBe('Checking s1.h5ad, file 1 of 3');
    expect(checking).toContain('Checking s2.h5ad, file 2 of 3');
    expect(checking).toContain('Checking s3.h5ad, file 3 of 3');
    // Any copy progress shown says the file, its place and bytes in the file's unit.
    for (const l of lines(events).filter((l) => l.startsWith('Copying'))) expect(l).toMatch(/^Copying s[123]\.h5ad, file [123] of 3 \([\d.]+ of [\d.]+ (B|KiB|MiB)\)$/);
  }, 60_000);

  it('PCA reads expression values cell by cell, then computes components pass by pass', async () => {
    await concatenateCollection({ registry, home, collectionKey: 'seed', storeKey: 'atlas' });
    const events: Progress[] = [];
    await embedStore({ registry, storeKey: 'atlas', pca: { nComponents: 3 }, threads: 1, onProgress: (p) => events.push(p) });
    const reading = lines(events).filter((l) => l.startsWith('Reading expression values'));
    expect(reading.length).toBeGreaterThan(0);
    for (const l of reading) expect(l).toMatch(/^Reading expression values \([\d,]+ of 210 cells\)$/);
    expect(reading[reading.length - 1]).toBe('Reading expression values (210 of 210 cells)');
    const passes = lines(events).filter((l) => l.startsWith('Computing components'));
    expect(passes.length).toBeGreaterThan(0);
    for (const l of passes) expect(l).toMatch(/^Computing components, pass \d+ of up to \d+$/);
    const passNumbers = passes.map((l) => Number(/pass (\d+)/.exec(l)![1]));
    expect([...passNumbers].sort((a, b) => a - b)).toEqual(passNumbers);
    expect(lines(events)).toContain('Placing each cell on the components');
  }, 60_000);

  it('an export writes expression values with the cells done so far', async () => {
    const events: Progress[] = [];
    await exportQueryToH5ad({ registry, storeKey: 'atlas', obs: 'cell_type == "B"', out: join(root, 'b.h5ad'), onProgress: (p) => events.push(p) });
    const writing = lines(events).filter((l) => l.startsWith('Writing expression values'));
    expect(writing.length).toBeGreaterThan(0);
    for (const l of writing) expect(l).toMatch(/^Writing expression values \([\d,]+ of [\d,]+ cells\)$/);
    const last = /\(([\d,]+) of ([\d,]+) cells\)/.exec(writing[writing.length - 1]!)!;
    expect(last[1]).toBe(last[2]);
    expect(lines(events)[0]).toBe('Writing the cell and gene tables');
  }, 60_000);
});
