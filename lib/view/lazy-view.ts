/**
 * A view loaded the first time it is shown, not with the page: the side panel's
 * open path is the conversation list, the conversation and its composer, and
 * every dialog or screen besides them is its own chunk (issue #17, "the side
 * panel stays fast": extension pages get no code cache, so every byte of the
 * entry chunk is parsed and compiled on every open).
 *
 * The chunk is asked for once and kept: a second showing renders at once,
 * without waiting even a microtask. A failed load (an extension updated under
 * an open panel no longer has the old chunks) is forgotten, so the next
 * showing tries again.
 */
import type { Component } from 'svelte';

export interface LazyView<Props extends Record<string, unknown>> {
  /** The component, once its chunk has loaded (undefined before). */
  loaded(): Component<Props> | undefined;
  /** Load the chunk (once; a load under way is shared). */
  load(): Promise<Component<Props>>;
}

export function lazyView<Props extends Record<string, unknown>>(
  importChunk: () => Promise<{ default: Component<Props> }>,
): LazyView<Props> {
  let component: Component<Props> | undefined;
  let pending: Promise<Component<Props>> | undefined;
  return {
    loaded: () => component,
    load() {
      pending ??= importChunk().then(
        (chunk) => (component = chunk.default),
        (err: unknown) => {
          pending = undefined;
          throw err;
        },
      );
      return pending;
    },
  };
}
