// Errors are values with a stable code and a message a user can act on.
// The CLI and the UI show the same message.

export type ErrorCode =
  | 'not_hdf5'
  | 'not_h5ad'
  // A file or folder of no format Cellar reads (an HDF5 file that is neither h5ad, 10x nor loom; a folder without a matrix).
  | 'unknown_format'
  | 'bad_element'
  | 'shape_mismatch'
  | 'duplicate_obs_ids'
  | 'dtype_clash'
  | 'bad_filter'
  | 'unknown_column'
  // Two groups of cells that cannot be compared: one is empty, or they overlap.
  | 'bad_groups'
  | 'not_found'
  | 'already_exists'
  | 'locked'
  | 'newer_registry'
  | 'hash_mismatch'
  | 'no_space'
  | 'id_mismatch'
  | 'cancelled'
  | 'timeout'
  | 'usage'
  | 'preflight_failed'
  | 'in_use'
  | 'io_error'
  | 'internal';

export class CellarError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'CellarError';
  }
}

export interface ErrorValue {
  code: ErrorCode;
  message: string;
  problems?: string[];
}

/** A file system refusing more bytes (ENOSPC, EDQUOT): a full disk, told to the user as `no_space`. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function toErrorValue(err: unknown): ErrorValue {
  if (err instanceof CellarError) {
    return err.problems.length ? { code: err.code, message: err.message, problems: err.problems } : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `Unexpected error: ${message}` };
}
