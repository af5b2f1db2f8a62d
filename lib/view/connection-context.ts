/**
 * The live connection state, for components deep in the tree (a message that
 * waits to go says so while offline) without threading a prop through every
 * list in between. The side panel provides it; where nobody does, a
 * component sees 'online' and says nothing extra.
 */
import { getContext, setContext } from 'svelte';
import type { ConnectionState } from '@/lib/protocol/channel.ts';

const KEY = Symbol('microchat/connection');

export function provideConnection(current: () => ConnectionState): void {
  setContext(KEY, current);
}

export function connectionGetter(): () => ConnectionState {
  return getContext<(() => ConnectionState) | undefined>(KEY) ?? (() => 'online');
}

/** The context map that provides `current` (for rendering a component alone, as the component tests do). */
export function connectionContext(current: () => ConnectionState): Map<unknown, unknown> {
  return new Map<unknown, unknown>([[KEY, current]]);
}
