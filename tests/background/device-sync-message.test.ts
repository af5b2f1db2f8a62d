// The `sync` self-message between a person's devices: parsed strictly (exact
// fields per action, ids of our alphabet), so nothing else passes for one.
import { describe, expect, it } from 'vitest';
import { encodeAppMessage, parseAppMessage, type AppMessage } from '../../lib/background/app-messages.ts';

const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const base = { v: 1, t: 'sync', id: 'm1', at: 5 };
const conv = 'A'.repeat(43);

describe('sync app message', () => {
  it('round-trips each action', () => {
    const good: AppMessage[] = [
      { v: 1, t: 'sync', id: 'm1', at: 5, action: 'read', conversationId: conv, upTo: 'msg_1' },
      { v: 1, t: 'sync', id: 'm1', at: 5, action: 'leave', conversationId: conv },
      { v: 1, t: 'sync', id: 'm1', at: 5, action: 'delete', conversationId: conv },
    ];
    for (const m of good) {
      expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
    }
  });

  it('refuses anything that is not exactly one', () => {
    const bad = [
      { ...base, action: 'read', conversationId: conv }, // no upTo
      { ...base, action: 'leave', conversationId: conv, upTo: 'x' }, // a field the action does not have
      { ...base, action: 'read', conversationId: conv, upTo: 'x', extra: 1 },
      { ...base, action: 'end', conversationId: conv },
      { ...base, action: 'delete', conversationId: 'not/an id' },
      { ...base, action: 'delete', conversationId: 'x'.repeat(65) },
      { ...base, action: 'delete' },
      { ...base, action: 'read', conversationId: conv, upTo: 7 },
      { ...base, action: 'read', conversationId: conv, upTo: '' },
    ];
    for (const m of bad) expect(parseAppMessage(bytes(m)), JSON.stringify(m)).toBeNull();
  });
});
