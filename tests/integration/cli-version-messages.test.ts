// Versions say what made them, in words, and lineage follows a file through every later
// version that holds its cells: concat → append → embed → export → restore through the
// real CLI, then `cellar versions` and `cellar lineage` as text and as JSON.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lineage } from '../../src/shared/registry-types';
import { cellar, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { makeSeedInputs } from './helpers/workflow-inputs';

let root: string;
let home: string;
let exported: string;
const h = () => ({ home });

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function text(args: string[]): string {
  const r = cellar(args, h());
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const MESSAGES = {
  1: 'concatenation of 3 files: 210 cells × 40 genes',
  2: 'append of s4.h5ad: +50 cells, +6 genes',
  3: 'PCA (2 components of data) as obsm pca',
  4: 'restore of v1',
} as const;

beforeAll(() => {
  root = tempDir('version-messages');
  home = join(root, 'home');
  const files = makeSeedInputs(join(root, 'in'));
  ok(cellar(['import', files.s1, files.s2, files.s3, '--collection', 'seed', '--json'], h()));
  ok(cellar(['concat', '--collection', 'seed', '--store', 'atlas', '--json'], h()));
  ok(cellar(['append', '--store', 'atlas', files.s4, '--json'], h()));
  ok(cellar(['embed', '--store', 'atlas', '--pca', '2', '--json'], h()));
  exported = join(root, 'b-cells.h5ad');
  ok(cellar(['query', '--store', 'atlas', '--version', '2', '--obs', 'cell_type == "B"', '--out', exported, '--json'], h()));
  ok(cellar(['restore', '--store', 'atlas', '1', '--json'], h()));
}, 240_000);

afterAll(() => removeDir(root));

describe('cellar versions', () => {
  it('--json gives each version its message, newest first', () => {
    const versions = ok(cellar(['versions', '--store', 'atlas', '--json'], h())) as Array<{ version: number; message: string; run: { transform: string } }>;
    expect(versions.map((v) => [v.version, v.run.transform, v.message])).toEqual([
      [4, 'restore', MESSAGES[4]],
      [3, 'embed', MESSAGES[3]],
      [2, 'append', MESSAGES[2]],
      [1, 'concatenate', MESSAGES[1]],
    ]);
  });

  it('prints the message on each version’s first line', () => {
    const lines = text(['versions', '--store', 'atlas']).split('\n');
    expect(lines[0]).toBe('Store atlas:');
    const heads = lines.filter((l) => /^ {2}v\d/.test(l));
    expect(heads).toEqual([`  v4 (latest)  ${MESSAGES[4]}`, `  v3  ${MESSAGES[3]}`, `  v2  ${MESSAGES[2]}`, `  v1  ${MESSAGES[1]}`]);
  });
});

describe('cellar lineage', () => {
  /** Store versions reachable from a node along the edges (input → run → output). */
  function versionsReachable(lineage: Lineage, from: string): number[] {
    const next = new Map<string, string[]>();
    for (const e of lineage.edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const seen = new Set([from]);
    const queue = [from];
    while (queue.length) {
      for (const to of next.get(queue.shift()!) ?? []) {
        if (seen.has(to)) continue;
        seen.add(to);
        queue.push(to);
      }
    }
    return lineage.nodes.filter((n) => n.storeKey === 'atlas' && seen.has(n.id)).map((n) => n.version!).sort();
  }

  it('follows a file of the concatenation into every later version, restore included', () => {
    const lineage = ok(cellar(['lineage', 's1.h5ad', '--json'], h())) as Lineage;
    const file = lineage.nodes.find((n) => n.label === 's1.h5ad')!;
    expect(file).toMatchObject({ kind: 'artifact', artifactKind: 'h5ad', message: 'import of s1.h5ad' });
    expect(versionsReachable(lineage, file.id)).toEqual([1, 2, 3, 4]);
    const versions = lineage.nodes.filter((n) => n.storeKey === 'atlas').sort((a, b) => a.version! - b.version!);
    expect(versions.map((n) => [n.label, n.message])).toEqual([1, 2, 3, 4].map((v) => [`atlas v${v}`, MESSAGES[v as 1 | 2 | 3 | 4]]));
  });

  it('follows an appended file into the versions that hold its cells, not into a restore of an older one', () => {
    const lineage = ok(cellar(['lineage', 's4.h5ad', '--json'], h())) as Lineage;
    const file = lineage.nodes.find((n) => n.label === 's4.h5ad')!;
    expect(versionsReachable(lineage, file.id)).toEqual([2, 3]);
    // The version the append built on is on the graph as the append's other input.
    expect(lineage.nodes.some((n) => n.label === 'atlas v1')).toBe(true);
    expect(lineage.nodes.some((n) => n.label === 'atlas v4')).toBe(false);
  });

  it('shows the export and the embedding as nodes made by their runs', () => {
    const lineage = ok(cellar(['lineage', 's1.h5ad', '--json'], h())) as Lineage;
    const exportNode = lineage.nodes.find((n) => n.kind === 'export')!;
    expect(exportNode).toMatchObject({ label: 'b-cells.h5ad (h5ad)', path: exported });
    const embedding = lineage.nodes.find((n) => n.kind === 'embedding')!;
    expect(embedding.label).toBe('obsm pca');
    const madeBy = (id: string) => lineage.edges.find((e) => e.to === id)!.from;
    const run = (id: string) => lineage.nodes.find((n) => n.id === id)!;
    expect(run(madeBy(exportNode.id))).toMatchObject({ kind: 'run', label: 'export' });
    expect(run(madeBy(embedding.id))).toMatchObject({ kind: 'run', label: 'embed' });
    // The export read version 2.
    const v2 = lineage.nodes.find((n) => n.label === 'atlas v2')!;
    expect(lineage.edges).toContainEqual({ from: v2.id, to: madeBy(exportNode.id), relation: 'input' });
  });

  it('prints each version with its message before the edges', () => {
    const lines = text(['lineage', 's1.h5ad']).split('\n');
    expect(lines.slice(1, 5)).toEqual([1, 2, 3, 4].map((v) => `  atlas v${v}: ${MESSAGES[v as 1 | 2 | 3 | 4]}`));
    expect(lines).toContain('  run restore  →  atlas v4');
  });
});

describe('annotate and compact', () => {
  it('record what they did: the table and its columns, the versions folded together', () => {
    const labels = join(root, 'labels.csv');
    writeFileSync(labels, 'obs_id,quality,batch\na0,good,x\na1,poor,y\n');
    ok(cellar(['annotate', '--store', 'atlas', '--from', labels, '--json'], h()));
    ok(cellar(['compact', '--store', 'atlas', '--yes', '--json'], h()));
    const versions = ok(cellar(['versions', '--store', 'atlas', '--json'], h())) as Array<{ version: number; message: string }>;
    // Compaction keeps only the new version; the annotation's words are on the lineage's tombstone.
    expect(versions.map((v) => [v.version, v.message])).toEqual([[6, 'compaction of v1–v5']]);
    const lineage = ok(cellar(['lineage', 'atlas', '--json'], h())) as Lineage;
    expect(lineage.nodes.find((n) => n.version === 5)?.message).toBe('annotation from labels.csv: 2 columns');
  }, 60_000);
});
