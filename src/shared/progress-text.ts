// A job's progress as one line a biologist reads: the phase, then how far along it is in the
// phase's own unit ("Reading expression values (40,000 of 200,000 cells)", "Copying
// pbmc2.h5ad, file 2 of 4 (1.2 of 3.4 GiB)"). The app and `cellar serve` show the same words.
import type { Progress } from './contract';
import { formatBytesOf, formatCount } from './format-number';

export function describeProgress(progress: Progress): string {
  const { phase, done, total, unit } = progress;
  switch (unit) {
    case 'cells':
      return `${phase} (${formatCount(done)} of ${formatCount(total)} cells)`;
    case 'bytes':
      return `${phase} (${formatBytesOf(done, total)})`;
    case 'said':
      return phase;
    default:
      // Phases that name no unit: a bare count, when there is more than one step.
      return total > 1 ? `${phase} (${formatCount(done)} of ${formatCount(total)})` : phase;
  }
}
