import type { SpaceCheck } from '../../../shared/contract';
import { formatBytes } from '../format';

/** The space a write needs next to the space free, with a warning when it will not fit. */
export function SpaceNote({ space }: { space: SpaceCheck }) {
  const fits = space.neededBytes <= space.freeBytes;
  return (
    <p className={`space-note ${fits ? '' : 'message message-error'}`} data-testid="space-check" role={fits ? undefined : 'alert'}>
      Space needed: <strong>about {formatBytes(space.neededBytes)}</strong> · free: <strong>{formatBytes(space.freeBytes)}</strong>
      {!fits && ' — not enough space on this disk.'}
    </p>
  );
}
