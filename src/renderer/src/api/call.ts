// Promise-style calls on top of the result envelope: screens await values and catch
// one error type that carries the engine's code, message and problem list.
import type { Channel, RequestOf, ResponseOf } from '../../../shared/contract';
import type { ErrorValue } from '../../../shared/errors';
import { api } from './client';

export class ApiError extends Error {
  readonly code: ErrorValue['code'];
  readonly problems: string[];
  constructor(error: ErrorValue) {
    super(error.message);
    this.name = 'ApiError';
    this.code = error.code;
    this.problems = error.problems ?? [];
  }
}

export async function call<K extends Channel>(channel: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
  const result = await api.invoke(channel, request);
  if (!result.ok) throw new ApiError(result.error);
  return result.value;
}

/** Any thrown thing as the error value the UI shows. */
export function toShownError(err: unknown): ErrorValue {
  if (err instanceof ApiError) return { code: err.code, message: err.message, problems: err.problems };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** Bytes from the contract reinterpreted as a typed array (copied when misaligned). */
export function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}

export function asInt32(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Int32Array(bytes.slice().buffer);
}
