/**
 * A scripted stand-in for the background on the view's transport: per-method
 * handlers, a log of calls, and a way to push live events. Only for component
 * tests; the e2e tests use the real background.
 */
import { ChannelError, ErrorCode, type LiveEvent, type Method, type Params, type Result } from '@/lib/protocol/channel.ts';
import { ViewState, type Transport } from '@/lib/view/view-state.svelte.ts';
import { appState } from './fixtures.ts';
import type { AppState, ViewPresence } from '@/lib/protocol/channel.ts';

type Handler<M extends Method> = (params: Params<M>) => Result<M> | Promise<Result<M>>;

export class FakeBackground implements Transport {
  readonly calls: { method: Method; params: unknown }[] = [];
  private readonly handlers = new Map<Method, (params: unknown) => unknown>();
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  on<M extends Method>(method: M, handler: Handler<M>): this {
    this.handlers.set(method, handler as (params: unknown) => unknown);
    return this;
  }

  async request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    this.calls.push({ method, params });
    const handler = this.handlers.get(method);
    if (!handler) throw new ChannelError(ErrorCode.Unavailable, `${method} is not scripted`);
    return (await handler(params)) as Result<M>;
  }

  subscribe(onEvent: (event: LiveEvent) => void): () => void {
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  emit(event: LiveEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** What the view reported it shows (notification presence), in order. */
  readonly presences: ViewPresence[] = [];

  present(presence: ViewPresence): void {
    this.presences.push(presence);
  }

  callsOf<M extends Method>(method: M): Params<M>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params as Params<M>);
  }
}

/** A ViewState on a fake background, already showing `state`. */
export function fakeView(state: Partial<AppState> = {}): { bg: FakeBackground; view: ViewState } {
  const bg = new FakeBackground();
  const view = new ViewState(bg);
  view.app = appState(state);
  return { bg, view };
}
