// Reconciliation gives a killed write the lineage an uninterrupted one has (SPEC §4
// commit order, "Versions and lineage"): two homes get the same inputs; in one every
// append is killed right after its commit point (CELLAR_TEST_CRASH_AT=after-commit)
// and the next command reconciles, in the other the appends run to the end. Their
// lineage, artifacts and runs must be the same, uids and times aside. A run killed
// before its commit point ends failed and no longer holds up `delete`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/main/registry/registry';
import type { RunRecord } from '../../src/shared/registry-types';
import { cellar, removeDir, tempDir, type CellarResult } from './helpers/cellar';
import { makeSeedInputs, SEED_CELLS, SEED_CONCAT_CELLS } from './helpers/workflow-inputs';

interface LineageJson {
  nodes: { id: string; kind: string; label: string; deleted: boolean; artifactKind?: string; status?: string }[];
  edges: { from: string; to: string; relation: string }[];
}
interface ListJson {
  artifacts: { uid: string; key: string; size: number; hash: string; n_observations: number; version: number; is_link: boolean }[];
  stores: { key: string; version: number; n_versions: number; n_observations: number; n_vars: number }[];
}

let root: string;
let files: ReturnType<typeof makeSeedInputs>;
let killedHome: string;
let cleanHome: string;

function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

function inBoth(args: string[]): void {
  for (const home of [killedHome, cleanHome]) ok(cellar([...args, '--json'], { home }));
}

function lineage(home: string, ref: string): LineageJson {
  return ok(cellar(['lineage', ref, '--json'], { home })) as LineageJson;
}

/**
 * A lineage with uids replaced by what the nodes are: a run is named by its transform,
 * status and what it made, so two runs of one transform are told apart by their outputs.
 */
function shape(graph: LineageJson): { nodes: string[]; edges: string[] } {
  const base = new Map(graph.nodes.map((n) => [n.id, `${n.kind}:${n.label}${n.artifactKind ? `:${n.artifactKind}` : ''}${n.deleted ? ':deleted' : ''}${n.status ? `:${n.status}` : ''}`]));
  const name = new Map(
    graph.nodes.map((n) => {
      if (n.kind !== 'run') return [n.id, base.get(n.id)!];
      const made = graph.edges.filter((e) => e.from === n.id && e.relation === 'output').map((e) => base.get(e.to)!).sort();
      return [n.id, `${base.get(n.id)!}→[${made.join(', ')}]`];
    }),
  );
  return {
    nodes: [...name.values()].sort(),
    edges: graph.edges.map((e) => `${name.get(e.from)} -${e.relation}-> ${name.get(e.to)}`).sort(),
  };
}

/** Every run of a home without uids and times: transform, status, error, inputs and outputs by key. */
function runShapes(home: string): string[] {
  const registry = openRegistry(home);
  try {
    const label = (uid: string) => {
      const a = registry.findArtifact(uid);
      if (a) return a.kind === 'store' ? `${a.key} v${a.version}` : a.key;
      return `collection ${registry.findCollection(uid)?.key ?? uid}`;
    };
    return registry
      .listRuns()
      .map((r: RunRecord) =>
        JSON.stringify({
          transform: r.transform.name,
          status: r.status,
          error: r.error,
          via: r.params.via ?? null,
          inputs: [...r.inputs.artifacts.map(label), ...r.inputs.collections.map(label)].sort(),
          outputs: [...r.outputs.artifacts.map(label), ...r.outputs.collections.map(label)].sort(),
        }),
      )
      .sort();
  } finally {
    registry.close();
  }
}

function listing(home: string): { artifacts: unknown[]; stores: unknown[] } {
  const l = ok(cellar(['list', '--json'], { home })) as ListJson;
  return {
    artifacts: l.artifacts.map(({ key, size, hash, n_observations, version, is_link }) => ({ key, size, hash, n_observations, version, is_link })),
    stores: l.stores.map(({ key, version, n_versions, n_observations, n_vars }) => ({ key, version, n_versions, n_observations, n_vars })),
  };
}

function killedAppend(args: string[], at: string): void {
  const r = cellar(['append', '--store', 'atlas', ...args, '--json'], { home: killedHome, env: { CELLAR_TEST_CRASH_AT: at } });
  expect(r.signal, r.stderr).toBe('SIGKILL');
  expect(r.stdout).toBe('');
}

beforeAll(() => {
  root = tempDir('store-reconcile');
  files = makeSeedInputs(join(root, 'in'));
  killedHome = join(root, 'killed');
  cleanHome = join(root, 'clean');
  inBoth(['import', files.s1, files.s2, '--collection', 'pair']);
  inBoth(['concat', '--collection', 'pair', '--store', 'atlas']);
}, 180_000);

afterAll(() => removeDir(root));

describe('append killed after its commit point', () => {
  it('of a new file: the next command registers the version, the file (imported by its own run) and the run inputs, as an uninterrupted append does', () => {
    killedAppend([files.s3], 'after-commit');
    ok(cellar(['append', '--store', 'atlas', files.s3, '--json'], { home: cleanHome }));
    // `versions` is the command that reconciles here; lineage only reads.
    const versions = ok(cellar(['versions', '--store', 'atlas', '--json'], { home: killedHome })) as { version: number; n_observations: number; run: { transform: string } }[];
    expect(versions.map((v) => [v.version, v.n_observations, v.run.transform])).toEqual([
      [2, SEED_CONCAT_CELLS, 'append'],
      [1, SEED_CELLS.s1 + SEED_CELLS.s2, 'concatenate'],
    ]);

    const killed = shape(lineage(killedHome, 'atlas'));
    expect(killed).toEqual(shape(lineage(cleanHome, 'atlas')));
    // Spelled out: the appended file is an input of the append run, made by an import run of its own.
    expect(killed.edges).toContain('artifact:s3.h5ad:h5ad -input-> run:append:completed→[artifact:atlas v2:store]');
    expect(killed.edges).toContain('run:import:completed→[artifact:s3.h5ad:h5ad] -output-> artifact:s3.h5ad:h5ad');
    expect(killed.edges).toContain('artifact:atlas v1:store -input-> run:append:completed→[artifact:atlas v2:store]');
    expect(shape(lineage(killedHome, 's3.h5ad'))).toEqual(shape(lineage(cleanHome, 's3.h5ad')));
    expect(listing(killedHome)).toEqual(listing(cleanHome));
    expect(listing(killedHome).artifacts.map((a) => (a as { key: string }).key)).toEqual(['s1.h5ad', 's2.h5ad', 's3.h5ad']);
    expect(runShapes(killedHome)).toEqual(runShapes(cleanHome));
  });

  it('of a file already in the registry: the same lineage, and no second artifact', () => {
    inBoth(['import', files.s4, '--collection', 'later']);
    killedAppend([files.s4], 'after-commit');
    ok(cellar(['append', '--store', 'atlas', files.s4, '--json'], { home: cleanHome }));
    const stores = (ok(cellar(['list', '--json'], { home: killedHome })) as ListJson).stores;
    expect(stores.map((s) => [s.key, s.version, s.n_observations])).toEqual([['atlas', 3, SEED_CONCAT_CELLS + SEED_CELLS.s4]]);

    const killed = shape(lineage(killedHome, 'atlas'));
    expect(killed).toEqual(shape(lineage(cleanHome, 'atlas')));
    expect(killed.edges).toContain('artifact:s4.h5ad:h5ad -input-> run:append:completed→[artifact:atlas v3:store]');
    expect(shape(lineage(killedHome, 's4.h5ad'))).toEqual(shape(lineage(cleanHome, 's4.h5ad')));
    expect(listing(killedHome)).toEqual(listing(cleanHome));
    expect(runShapes(killedHome)).toEqual(runShapes(cleanHome));
  });
});

describe('append killed before its commit point', () => {
  it('its run ends failed at the next command and no longer keeps `delete` (without --force) from deleting the store', () => {
    killedAppend([files.s1, '--make-unique'], 'before-commit');
    const registry = openRegistry(killedHome);
    let run: RunRecord;
    try {
      run = registry.listRuns().find((r) => r.transform.name === 'append')!;
      expect(run.status).toBe('running');
      // Left running, the dead run would count as a reader of the store.
      expect(registry.consumersOf('atlas')).toEqual([`append run ${run.uid} is still running and reads it`]);
    } finally {
      registry.close();
    }

    const deleted = ok(cellar(['delete', 'atlas', '--json'], { home: killedHome })) as { deleted: { key: string; version: number }[]; overridden: string[] };
    expect(deleted.overridden).toEqual([]);
    expect(deleted.deleted.map((d) => [d.key, d.version])).toEqual([
      ['atlas', 1],
      ['atlas', 2],
      ['atlas', 3],
    ]);
    const after = openRegistry(killedHome);
    try {
      const ended = after.getRun(run.uid);
      expect([ended.status, ended.outputs.artifacts]).toEqual(['failed', []]);
      expect(ended.error).toMatch(/^Interrupted: the process that ran it \(pid \d+ on .+\) ended before the run finished/);
    } finally {
      after.close();
    }
    expect((ok(cellar(['list', '--json'], { home: killedHome })) as ListJson).stores).toEqual([]);
  });
});
