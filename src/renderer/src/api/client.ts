// One client for the renderer, two transports: the preload bridge in the desktop
// app, HTTP + Server-Sent Events in browser mode (cellar serve).
import { decodeJson, encodeJson, type CellarApi, type Channel, type EventName, type Events, type OpenedFile, type RequestOf, type ResponseOf, type Result } from '../../../shared/contract';

declare global {
  interface Window {
    cellar?: CellarApi;
  }
}

const TOKEN_HEADER = 'X-Cellar-Token';
const TOKEN_KEY = 'cellar-token';
const NEEDS_TOKEN = 'This page needs the address printed by "cellar serve" (with its token).';

/**
 * The token arrives once, in the address `cellar serve` printed. It is kept for this tab
 * only (sessionStorage survives a reload, not the tab) and sent as a header, never as a
 * cookie: cookies of 127.0.0.1 go to every port of it. The address bar loses it at once.
 */
function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function httpTransport(): CellarApi {
  const token = takeToken() ?? '';
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let streaming = false;

  const dispatch = (block: string) => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (!data.length) return;
    const payload = JSON.parse(data.join('\n')) as unknown;
    for (const l of listeners.get(event) ?? []) l(payload);
  };

  // EventSource cannot send a header, so the event stream is read from a fetch that does.
  const streamEvents = async () => {
    for (;;) {
      try {
        const res = await fetch('/api/events', { headers: { [TOKEN_HEADER]: token }, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) return;
        if (res.ok && res.body) {
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffered = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffered += value.replace(/\r\n?/g, '\n');
            let end: number;
            while ((end = buffered.indexOf('\n\n')) >= 0) {
              dispatch(buffered.slice(0, end));
              buffered = buffered.slice(end + 2);
            }
          }
        }
      } catch {
        // The server restarted or the network blinked: try again below.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  return {
    async invoke<K extends Channel>(channel: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>> {
      try {
        const res = await fetch(`/api/invoke/${channel}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: token },
          body: request === undefined ? '' : encodeJson(request),
        });
        if (res.status === 401) return { ok: false, error: { code: 'usage', message: NEEDS_TOKEN } };
        return decodeJson<Result<ResponseOf<K>>>(await res.text());
      } catch (err) {
        return { ok: false, error: { code: 'io_error', message: `Cellar's server did not answer: ${(err as Error).message}` } };
      }
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      if (!streaming) {
        streaming = true;
        void streamEvents();
      }
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
    // Browser mode: the file is uploaded into the home's managed storage.
    async fileFromDrop(file: File): Promise<OpenedFile> {
      const res = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', [TOKEN_HEADER]: token },
        body: file,
      });
      if (res.status === 401) throw new Error(NEEDS_TOKEN);
      const result = decodeJson<Result<OpenedFile>>(await res.text());
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    },
  };
}

export const api: CellarApi = window.cellar ?? httpTransport();
export const isBrowserMode = !window.cellar;

/**
 * Browser mode: saves an export offered at `reference`. A navigation cannot carry the
 * token header, so the page first asks (with the header) for a one-time ticket that
 * expires within a minute, then lets the browser download through it.
 */
export async function downloadExport(reference: string, fileName: string): Promise<void> {
  const res = await fetch(reference, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: sessionStorage.getItem(TOKEN_KEY) ?? '' },
    body: '{}',
  });
  if (res.status === 401) throw new Error(NEEDS_TOKEN);
  const result = decodeJson<Result<{ url: string }>>(await res.text());
  if (!result.ok) throw new Error(result.error.message);
  const link = document.createElement('a');
  link.href = result.value.url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
}
