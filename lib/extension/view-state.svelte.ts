/**
 * Reactive view state for the popup and side panel (Svelte 5 runes). It only
 * mirrors what the background publishes and forwards intents; it holds no
 * secrets and no group state.
 */
import type { AppState, Method, Params, Result } from './protocol.ts';
import { request, subscribe } from './channel-client.ts';

export class ViewState {
  app = $state<AppState | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  private stop: (() => void) | undefined;

  connect(): void {
    this.stop = subscribe((event) => {
      if (event.type === 'state') this.app = event.state;
    });
  }

  disconnect(): void {
    this.stop?.();
  }

  /** Send an intent; a failure is shown to the person, not thrown. */
  async send<M extends Method>(method: M, params: Params<M>): Promise<Result<M> | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await request(method, params);
    } catch (err) {
      this.error = err instanceof Error ? err.message : 'Something went wrong.';
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
