// Exposes exactly the contract's invoke/on and nothing else to the sandboxed renderer.
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, EVENTS, type CellarApi } from '../shared/contract';

const api: CellarApi = {
  invoke: (channel, request) => {
    if (!(CHANNELS as readonly string[]).includes(channel)) return Promise.reject(new Error(`Unknown channel ${channel}`));
    return ipcRenderer.invoke(channel, request);
  },
  on: (event, listener) => {
    if (!(EVENTS as readonly string[]).includes(event)) throw new Error(`Unknown event ${event}`);
    const wrapped = (_e: unknown, payload: unknown) => listener(payload as never);
    ipcRenderer.on(`event:${event}`, wrapped);
    return () => ipcRenderer.removeListener(`event:${event}`, wrapped);
  },
};

contextBridge.exposeInMainWorld('cellar', api);
