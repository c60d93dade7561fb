// Exposes exactly the contract's invoke/on (plus turning a dropped File into a token)
// and nothing else to the sandboxed renderer.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS, EVENTS, type CellarApi, type PreloadChannels, type Result } from '../shared/contract';
import { DATASET_SUFFIXES_TEXT } from '../shared/dataset-files';

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
  // The path never reaches the renderer: main registers it and returns a token.
  fileFromDrop: async (file) => {
    const request: PreloadChannels['drop:register']['request'] = { path: webUtils.getPathForFile(file) };
    const result = (await ipcRenderer.invoke('drop:register', request)) as Result<PreloadChannels['drop:register']['response']>;
    if (!result.ok) throw new Error(result.error.message);
    if (!result.value) throw new Error(`${file.name} is not a single-cell dataset file (${DATASET_SUFFIXES_TEXT}).`);
    return result.value;
  },
};

contextBridge.exposeInMainWorld('cellar', api);
