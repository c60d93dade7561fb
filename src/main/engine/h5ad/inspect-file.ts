// Worker-side entry for `cellar inspect`: open, summarise, always close.
import { openH5ad } from './reader';
import { inspectH5ad, type InspectReport } from './inspect';

export async function inspectFile(path: string): Promise<InspectReport> {
  const file = await openH5ad(path);
  try {
    return inspectH5ad(file);
  } finally {
    file.close();
  }
}
