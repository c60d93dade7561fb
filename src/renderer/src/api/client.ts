// One client for the renderer, two transports: the preload bridge in the desktop
// app, HTTP + Server-Sent Events in browser mode (cellar serve).
import { decodeJson, encodeJson, type CellarApi, type Channel, type EventName, type Events, type OpenedFile, type RequestOf, type ResponseOf, type Result } from '../../../shared/contract';

declare global {
  interface Window {
    cellar?: CellarApi;
  }
}

function httpTransport(): CellarApi {
  let source: EventSource | null = null;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  return {
    async invoke<K extends Channel>(channel: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>> {
      try {
        const res = await fetch(`/api/invoke/${channel}`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: request === undefined ? '' : encodeJson(request),
        });
        if (res.status === 401) return { ok: false, error: { code: 'usage', message: 'This page needs the address printed by "cellar serve" (with its token).' } };
        return decodeJson<Result<ResponseOf<K>>>(await res.text());
      } catch (err) {
        return { ok: false, error: { code: 'io_error', message: `Cellar's server did not answer: ${(err as Error).message}` } };
      }
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      source ??= new EventSource('/api/events');
      let set = listeners.get(event);
      if (!set) {
        const fresh = new Set<(payload: unknown) => void>();
        listeners.set(event, fresh);
        source.addEventListener(event, (e) => {
          const payload = JSON.parse((e as MessageEvent<string>).data) as unknown;
          for (const l of fresh) l(payload);
        });
        set = fresh;
      }
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
    // Browser mode: the file is uploaded into the home's managed storage.
    async fileFromDrop(file: File): Promise<OpenedFile> {
      const res = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: 'POST', credentials: 'same-origin', body: file });
      const result = decodeJson<Result<OpenedFile>>(await res.text());
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    },
  };
}

export const api: CellarApi = window.cellar ?? httpTransport();
export const isBrowserMode = !window.cellar;
