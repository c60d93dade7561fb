// Typed IPC handlers: one per contract channel, each checking who sent the message
// and wrapping the outcome in the {ok, value} | {ok: false, error} envelope.
import { toErrorValue, CellarError } from '../../shared/errors';
import type { Channel, RequestOf, ResponseOf, Result } from '../../shared/contract';
import { isAllowedNavigation } from '../shell/security';

/** The slice of Electron's ipcMain / IpcMainInvokeEvent we use (mockable in tests). */
export interface InvokeEvent {
  senderFrame: { url: string } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, payload: unknown) => Promise<unknown>): void;
}

export type Handler<K extends Channel> = (request: RequestOf<K>) => Promise<ResponseOf<K>> | ResponseOf<K>;
export type Handlers = { [K in Channel]: Handler<K> };
export type Validators = { [K in Channel]: (payload: unknown) => RequestOf<K> };

/**
 * True when the message comes from our own page: app://cellar (or, where the runtime cannot
 * serve that scheme, the renderer's own index.html on file://, nothing else of file://), or
 * the development server when unpackaged.
 */
export function isTrustedSender(event: InvokeEvent, appPage: string): boolean {
  const url = event.senderFrame?.url;
  return !!url && isAllowedNavigation(url, appPage);
}

export async function runHandler<K extends Channel>(handler: Handler<K>, validate: (p: unknown) => RequestOf<K>, payload: unknown): Promise<Result<ResponseOf<K>>> {
  try {
    const request = validate(payload);
    return { ok: true, value: await handler(request) };
  } catch (err) {
    return { ok: false, error: toErrorValue(err) };
  }
}

/** Registers every channel; a missing handler or validator is a compile error. */
export function registerHandlers(ipc: IpcMainLike, handlers: Handlers, validators: Validators, appPage: string): void {
  for (const channel of Object.keys(handlers) as Channel[]) {
    ipc.handle(channel, async (event, payload) => {
      if (!isTrustedSender(event, appPage)) {
        return { ok: false, error: toErrorValue(new CellarError('usage', `Refused ${channel}: the message did not come from Cellar's own window.`)) };
      }
      return runHandler(handlers[channel] as Handler<typeof channel>, validators[channel] as (p: unknown) => RequestOf<typeof channel>, payload);
    });
  }
}
