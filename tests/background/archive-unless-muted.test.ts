/**
 * A member's new message brings an archived conversation back into the list,
 * unless the person also muted it (list-placement.ts, mute.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ConversationMeta } from '../../lib/background/chat-store.ts';
import { unarchiveOnMessage } from '../../lib/background/list-placement.ts';

const NOW = 1_800_000_000_000;

function archived(mutedUntil?: number): ConversationMeta {
  return { archived: true, ...(mutedUntil === undefined ? {} : { mutedUntil }) } as ConversationMeta;
}

describe('unarchiveOnMessage', () => {
  it('unarchives a conversation that is not muted', () => {
    const meta = archived();
    unarchiveOnMessage(meta, NOW);
    expect(meta.archived).toBeUndefined();
  });

  it('keeps a muted conversation archived', () => {
    const meta = archived(NOW + 60_000);
    unarchiveOnMessage(meta, NOW);
    expect(meta.archived).toBe(true);
  });

  it('unarchives once the mute has ended', () => {
    const meta = archived(NOW - 1);
    unarchiveOnMessage(meta, NOW);
    expect(meta.archived).toBeUndefined();
  });
});
