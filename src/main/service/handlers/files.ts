// Files the user opens: the open dialog, the OS's cold-start files, and a file's summary.
import { CellarError } from '../../../shared/errors';
import { inspectInWorker } from '../../engine/formats/inspect-in-worker';
import type { Handlers } from '../../ipc/handle';
import type { ServiceContext } from './context';

export function fileHandlers({ options, registerFile, pathOf }: ServiceContext): Pick<Handlers, 'file:choose' | 'file:pending' | 'file:inspect'> {
  return {
    'file:choose': async (request) => {
      if (!options.chooseFiles) throw new CellarError('usage', 'In the browser, add files by dropping them on the Library or with the upload button.');
      return (await options.chooseFiles(request?.kind ?? 'h5ad')).map(registerFile);
    },
    'file:pending': () => options.takePendingFiles?.() ?? [],
    'file:inspect': async ({ fileToken }) => {
      const path = pathOf(fileToken);
      return inspectInWorker(path, { timeoutMs: options.readTimeoutMs });
    },
  };
}
