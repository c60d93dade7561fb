// Calling the service's handlers as the IPC and HTTP transports do (validator, result envelope),
// for tests that drive the contract on real files.
import { basename } from 'node:path';
import { expect } from 'vitest';
import type { Service } from '../../../src/main/service/handlers';
import { runHandler, type Handler } from '../../../src/main/ipc/handle';
import type { Channel, JobKind, JobResults, JobSnapshot, RequestOf, ResponseOf } from '../../../src/shared/contract';

/** `service()` is read at each call, so the service can be made in a beforeAll. */
export function contractCaller(service: () => Service, files: Map<string, string>) {
  const attempt = <K extends Channel>(channel: K, request: RequestOf<K>) =>
    runHandler(service().handlers[channel] as Handler<K>, service().validators[channel] as (p: unknown) => RequestOf<K>, request);
  return {
    attempt,
    /** The handler's value; a refusal fails the test with its code and message. */
    async invoke<K extends Channel>(channel: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
      const result = await attempt(channel, request);
      if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
      return result.value;
    },
    /** The error of a call that must be refused. */
    async refused<K extends Channel>(channel: K, request: RequestOf<K>) {
      const result = await attempt(channel, request);
      if (result.ok) throw new Error(`${channel} should have been refused`);
      return result.error;
    },
    /** A file token, as a dialog or a drop would give the page. */
    tokenFor(path: string): string {
      const token = `token-${basename(path)}`;
      files.set(token, path);
      return token;
    },
    /** Waits for a job, which must complete, and returns its typed result. */
    async finished<K extends JobKind>(started: JobSnapshot, kind: K): Promise<JobResults[K]> {
      expect(started.kind).toBe(kind);
      const job = (await service().jobs.wait(started.id)) as JobSnapshot;
      expect(job.error?.message).toBeUndefined();
      expect(job.state).toBe('completed');
      expect(job.kind).toBe(kind);
      return job.result as JobResults[K];
    },
  };
}
