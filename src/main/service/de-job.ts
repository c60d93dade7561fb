// The differential expression job's body, run in a task thread by job-entry: the engine's
// result is saved in the home and the job's result carries its best genes.
import type { DeJobResult, RequestOf } from '../../shared/contract';
import type { Registry } from '../registry/registry';
import { differentialExpression } from '../engine/ops/differential-expression';
import { saveDeResult } from '../engine/ops/de-table';
import type { ProgressFn } from '../engine/ops/progress';

/** Genes carried in the job's result itself; the rest is read through de:table. */
const TOP_IN_RESULT = 50;

export async function runDeJob(ctx: { registry: Registry; home: string; signal: AbortSignal; onProgress: ProgressFn }, params: RequestOf<'de:start'>): Promise<DeJobResult> {
  const result = await differentialExpression({ ...params, registry: ctx.registry, signal: ctx.signal, onProgress: ctx.onProgress });
  const table = saveDeResult(ctx.home, result);
  const { results, ...summary } = result;
  return { ...summary, top: results.slice(0, TOP_IN_RESULT), table };
}
