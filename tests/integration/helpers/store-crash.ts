// Crash tests of writes that make a store's next version (SPEC §4 commit order): a write is
// killed with SIGKILL at a named point (CELLAR_TEST_CRASH_AT, see src/main/cli/crash-hook.ts),
// then the next commands must see a consistent home: the registry lists exactly the committed
// manifests, verify --fix removes only what the dead writer left, and the dead writer's run
// ends failed (killed before its commit point) or completed with its version (after it).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openRegistry } from '../../../src/main/registry/registry';
import type { RunRecord } from '../../../src/shared/registry-types';
import { cellar, snapshotTree, type CellarResult } from './cellar';

export interface CrashVersionRow {
  uid: string;
  version: number;
  is_latest: boolean;
  n_observations: number;
  run: { uid: string; transform: string } | null;
}

export interface CrashVerifyJson {
  ok: boolean;
  versions: number[];
  problems: string[];
  garbage: string[];
  removed: string[];
}

interface LineageJson {
  nodes: { id: string; kind: string; label: string; status?: string }[];
  edges: { from: string; to: string; relation: string }[];
}

/** The home and store a crash test writes to (read when used: set in beforeAll). */
export interface CrashTarget {
  home: string;
  store: string;
  storeDir: string;
}

/**
 * A write to kill: a `cellar` command (its first word names the run's transform), or any
 * other process, started by `run(at)` with CELLAR_TEST_CRASH_AT=at, that must die by SIGKILL.
 */
export type CrashWrite = string[] | { transform: string; run: (at: string) => void };

export const INTERRUPTED = /^Interrupted: the process that ran it \(pid \d+ on .+\) ended before the run finished; nothing it wrote was committed\.$/;

export function ok(r: CellarResult): unknown {
  expect(r.code, r.stderr).toBe(0);
  return r.json;
}

export function storeCrashKit(target: () => CrashTarget) {
  const h = () => ({ home: target().home });

  function versions(): CrashVersionRow[] {
    return ok(cellar(['versions', '--store', target().store, '--json'], h())) as CrashVersionRow[];
  }

  /** Version numbers of the committed manifests on disk, newest first. */
  function manifestVersions(): number[] {
    return readdirSync(join(target().storeDir, 'manifests'))
      .map((f) => /^v0*(\d+)\.json$/.exec(f)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
  }

  /** Every file of the store but its lock. */
  function storeFiles(): Record<string, string> {
    const snap = snapshotTree(target().storeDir);
    delete snap['.lock'];
    return snap;
  }

  /** The newest run of a transform, as the registry holds it (read without reconciling). */
  function newestRun(transform: string): RunRecord {
    const registry = openRegistry(target().home);
    try {
      const run = registry.listRuns().find((r) => r.transform.name === transform);
      expect(run, `no ${transform} run`).toBeDefined();
      return run!;
    } finally {
      registry.close();
    }
  }

  /**
   * The killed run after the next command: failed with no output and shown so in the store's
   * lineage as a reader of `inputUid`; or completed and linked to the version it made.
   */
  function expectRunEnded(run: RunRecord, inputUid: string, output: string | null): void {
    const now = newestRun(run.transform.name);
    expect(now.uid).toBe(run.uid);
    const graph = ok(cellar(['lineage', target().store, '--json'], h())) as LineageJson;
    const node = graph.nodes.find((n) => n.id === run.uid);
    expect(graph.edges).toContainEqual({ from: inputUid, to: run.uid, relation: 'input' });
    if (output === null) {
      expect([now.status, now.outputs.artifacts]).toEqual(['failed', []]);
      expect(now.error).toMatch(INTERRUPTED);
      expect(node).toMatchObject({ kind: 'run', label: `${run.transform.name} (failed)`, status: 'failed' });
    } else {
      expect([now.status, now.error, now.outputs.artifacts]).toEqual(['completed', null, [output]]);
      expect(node).toMatchObject({ kind: 'run', label: run.transform.name, status: 'completed' });
      expect(graph.edges).toContainEqual({ from: run.uid, to: output, relation: 'output' });
    }
  }

  function killedAt(args: string[], at: string): CellarResult {
    const r = cellar([...args, '--json'], { home: target().home, env: { CELLAR_TEST_CRASH_AT: at } });
    expect(r.signal, `${args[0]} was not killed at ${at}: ${r.stderr}`).toBe('SIGKILL');
    expect(r.stdout).toBe('');
    return r;
  }

  /** Files in the home's storage that a run copied there (named after the run). */
  function copiesOf(runUid: string): string[] {
    const storage = join(target().home, 'storage');
    return existsSync(storage) ? readdirSync(storage).filter((name) => name.startsWith(`${runUid}-`)) : [];
  }

  /**
   * Kills `write` at `at`, then checks the next commands see a consistent home: the registry
   * lists exactly the manifests on disk, and verify --fix removes exactly the dead writer's files.
   */
  function crashAndRecover(write: CrashWrite, at: string): { rows: CrashVersionRow[]; leftovers: string[]; run: RunRecord; copies: { before: string[]; after: string[] } } {
    const before = storeFiles();
    const transform = Array.isArray(write) ? write[0]! : write.transform;
    if (Array.isArray(write)) killedAt(write, at);
    else write.run(at);
    // Until a command reconciles, the killed run still reads as running.
    const run = newestRun(transform);
    expect(run.status).toBe('running');
    const copiesBefore = copiesOf(run.uid);
    const rows = versions();
    expect(rows.map((r) => r.version)).toEqual(manifestVersions());
    expect(rows.filter((r) => r.is_latest).map((r) => r.version)).toEqual([rows[0]!.version]);
    const fixed = ok(cellar(['verify', '--store', target().store, '--fix', '--json'], h())) as CrashVerifyJson;
    expect(fixed).toMatchObject({ ok: true, problems: [] });
    expect(fixed.versions).toEqual([...manifestVersions()].reverse());
    expect(fixed.removed).toEqual(fixed.garbage);
    const now = storeFiles();
    for (const name of fixed.removed) expect(name in now, `${name} was not removed`).toBe(false);
    const leftovers = Object.keys(before).filter((f) => !(f in now));
    expect(leftovers, 'verify --fix removed a file that existed before the crash').toEqual([]);
    return { rows, leftovers: fixed.removed, run, copies: { before: copiesBefore, after: copiesOf(run.uid) } };
  }

  return { versions, manifestVersions, storeFiles, newestRun, expectRunEnded, killedAt, copiesOf, crashAndRecover };
}
