/**
 * The view state and who hears about it: every change is published to the
 * subscribed views (a copy each), live message events are pushed as they
 * happen, and the toolbar badge follows the unread count.
 */
import type { AppState, LiveEvent } from '../../protocol/channel.ts';
import type { Platform } from './deps.ts';

export class ViewPublisher {
  private current: AppState;
  private readonly listeners = new Set<(state: AppState) => void>();
  private readonly eventListeners = new Set<(event: LiveEvent) => void>();
  /** The badge is set once at start, then only when the count changes. */
  private badgeUnset = true;

  constructor(
    initial: AppState,
    private readonly platform: Platform | undefined,
  ) {
    this.current = initial;
  }

  /** The state as it is now (read it; change it only through `update`). */
  get state(): AppState {
    return this.current;
  }

  /** A copy for a view or a caller: nothing it does reaches the background's state. */
  get snapshot(): AppState {
    return structuredClone(this.current);
  }

  subscribe(listener: (state: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Live message events (new messages, status changes). */
  subscribeEvents(listener: (event: LiveEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  update(next: AppState): void {
    const unreadBefore = this.current.unreadTotal;
    this.current = next;
    const snap = this.snapshot;
    for (const l of this.listeners) l(snap);
    if (unreadBefore !== next.unreadTotal || this.badgeUnset) {
      this.badgeUnset = false;
      this.platform?.setBadge?.(next.unreadTotal);
    }
  }

  /** Change the state without publishing it (the next `update` carries it along). */
  quietly(next: AppState): void {
    this.current = next;
  }

  emit(event: LiveEvent): void {
    for (const l of this.eventListeners) l(event);
  }
}
