// One client for the renderer: the preload bridge in the desktop app.
import type { CellarApi } from '../../../shared/contract';

declare global {
  interface Window {
    cellar?: CellarApi;
  }
}

const missing: CellarApi = {
  invoke: async () => ({ ok: false, error: { code: 'internal', message: 'Cellar could not reach its engine.' } }),
  on: () => () => undefined,
};

export const api: CellarApi = window.cellar ?? missing;
