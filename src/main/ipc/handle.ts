// Typed IPC handlers: one per contract channel, each checking who sent the message
// and wrapping the outcome in the {ok, value} | {ok: false, error} envelope.
import { toErrorValue, CellarError } from '../../shared/errors';
import type { Channels, Result } from '../../shared/contract';
import { isAllowedNavigation } from '../shell/security';

/** The slice of Electron's ipcMain / IpcMainInvokeEvent we use (mockable in tests). */
export interface InvokeEvent {
  senderFrame: { url: string } | null;
}
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, payload: unknown) => Promise<unknown>): void;
}

/** A map of channels, each with its request and response, like the contract's Channels. */
export type ChannelMap<M> = Record<keyof M, { request: unknown; response: unknown }>;
export type HandlerOf<M extends ChannelMap<M>, K extends keyof M> = (request: M[K]['request']) => Promise<M[K]['response']> | M[K]['response'];
export type HandlersOf<M extends ChannelMap<M>> = { [K in keyof M]: HandlerOf<M, K> };
export type ValidatorsOf<M extends ChannelMap<M>> = { [K in keyof M]: (payload: unknown) => M[K]['request'] };

export type Handler<K extends keyof Channels> = HandlerOf<Channels, K>;
export type Handlers = HandlersOf<Channels>;
export type Validators = ValidatorsOf<Channels>;

/**
 * True when the message comes from our own page: app://cellar (or, where the runtime cannot
 * serve that scheme, the renderer's own index.html on file://, nothing else of file://), or
 * the development server when unpackaged.
 */
export function isTrustedSender(event: InvokeEvent, appPage: string): boolean {
  const url = event.senderFrame?.url;
  return !!url && isAllowedNavigation(url, appPage);
}

export async function runHandler<Request, Response>(handler: (request: Request) => Promise<Response> | Response, validate: (p: unknown) => Request, payload: unknown): Promise<Result<Response>> {
  try {
    const request = validate(payload);
    return { ok: true, value: await handler(request) };
  } catch (err) {
    return { ok: false, error: toErrorValue(err) };
  }
}

/** Registers every channel of the map; a missing handler or validator is a compile error. */
export function registerHandlers<M extends ChannelMap<M>>(ipc: IpcMainLike, handlers: HandlersOf<M>, validators: ValidatorsOf<M>, appPage: string): void {
  for (const channel of Object.keys(handlers) as (keyof M & string)[]) {
    ipc.handle(channel, async (event, payload) => {
      if (!isTrustedSender(event, appPage)) {
        return { ok: false, error: toErrorValue(new CellarError('usage', `Refused ${channel}: the message did not come from Cellar's own window.`)) };
      }
      return runHandler(handlers[channel], validators[channel], payload);
    });
  }
}
