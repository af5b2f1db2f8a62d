import { describe, expect, it } from 'vitest';
import { MessageStore } from '@/lib/view/message-store.ts';
import { buildLayout, indexAt, visibleRange } from '@/lib/view/virtual-window.ts';
import { ViewState } from '@/lib/view/view-state.svelte.ts';
import { FakeBackground } from './support/fake-background.ts';
import { appState, conversation, message, messages } from './support/fixtures.ts';

const seqOf = (list: readonly { seq: number }[]) => list.map((m) => m.seq);

describe('MessageStore', () => {
  it('appends newer, prepends older, and keeps seq order for anything in between', () => {
    const s = new MessageStore();
    s.merge(messages(10, 15));
    s.merge(messages(15, 18));
    s.merge(messages(5, 10));
    expect(seqOf(s.messages)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    s.merge([message(3), message(20), message(4)]);
    expect(seqOf(s.messages)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20]);
  });

  it('merges by id: a second copy replaces the first (status updates), never duplicates', () => {
    const s = new MessageStore();
    s.merge(messages(1, 4));
    const before = s.messages;
    const after = s.merge([message(2, { status: 'failed' }), message(2, { status: 'sent' })]);
    expect(after).not.toBe(before); // a new array, so $state.raw holders see the change
    expect(seqOf(after)).toEqual([1, 2, 3]);
    expect(after[1]!.status).toBe('sent');
    expect(s.merge([...messages(1, 4)]).length).toBe(3);
  });

  it('moves a message whose seq changed', () => {
    const s = new MessageStore();
    s.merge([message(1), message(2), message(3, { id: 'pending' })]);
    s.merge([message(5, { id: 'pending' }), message(4)]);
    expect(s.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm4', 'pending']);
  });

  it('does not mutate what it was given', () => {
    const s = new MessageStore();
    const input = [message(3), message(1), message(2)];
    const copy = structuredClone(input);
    s.merge(input);
    expect(input).toEqual(copy);
  });
});

describe('virtual window arithmetic', () => {
  it('uses measured heights where known and the estimate elsewhere', () => {
    const layout = buildLayout(['a', 'b', 'c'], new Map([['b', 100]]), 40);
    expect([...layout.offsets]).toEqual([0, 40, 140, 180]);
    expect(layout.total).toBe(180);
  });

  it('finds the item at a position and the window around a viewport', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
    const layout = buildLayout(keys, new Map(), 50);
    expect(indexAt(layout.offsets, 0)).toBe(0);
    expect(indexAt(layout.offsets, 49.9)).toBe(0);
    expect(indexAt(layout.offsets, 50)).toBe(1);
    expect(indexAt(layout.offsets, 10_000 * 50 + 5)).toBe(9_999);
    expect(visibleRange(layout, 5_000, 500, 100)).toEqual({ start: 98, end: 113 });
    expect(visibleRange(layout, 0, 500, 0)).toEqual({ start: 0, end: 11 });
    expect(visibleRange(buildLayout([], new Map(), 50), 0, 500, 0)).toEqual({ start: 0, end: 0 });
  });
});

describe('ViewState message cache', () => {
  function setup() {
    const bg = new FakeBackground();
    const view = new ViewState(bg);
    view.connect();
    return { bg, view };
  }

  it('reads the newest page, then older pages until none are left', async () => {
    const { bg, view } = setup();
    bg.on('messages.page', ({ beforeSeq, limit }) => {
      const end = beforeSeq ?? 251;
      const start = Math.max(1, end - limit);
      return { messages: messages(start, end), ...(start > 1 ? { nextBeforeSeq: start } : {}) };
    });
    await view.loadLatest('c1');
    const t = view.thread('c1');
    expect(t.messages.length).toBe(100);
    expect(t.hasOlder).toBe(true);
    await view.loadOlder('c1');
    expect(bg.callsOf('messages.page')[1]).toEqual({ conversationId: 'c1', beforeSeq: 151, limit: 200 });
    expect(seqOf(t.messages)[0]).toBe(1);
    expect(t.messages.length).toBe(250);
    expect(t.hasOlder).toBe(false);
    await view.loadOlder('c1');
    expect(bg.callsOf('messages.page')).toHaveLength(2);
  });

  it('merges live message events into the right conversation', async () => {
    const { bg, view } = setup();
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [message(2), message(1)] });
    bg.emit({ type: 'messages', conversationId: 'c2', messages: [message(1, { conversationId: 'c2' })] });
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [message(2, { status: 'failed' })] });
    expect(seqOf(view.thread('c1').messages)).toEqual([1, 2]);
    expect(view.thread('c1').messages[1]!.status).toBe('failed');
    expect(view.thread('c2').messages).toHaveLength(1);
  });

  it('reads the newest page again when a loaded conversation shows activity it was not told about', async () => {
    const { bg, view } = setup();
    let newest = 10;
    bg.on('messages.page', () => ({ messages: messages(1, newest + 1) }));
    bg.emit({ type: 'state', state: appState({ conversations: [conversation({ lastActivity: 1 })] }) });
    await view.loadLatest('c1');
    newest = 12;
    bg.emit({ type: 'state', state: appState({ conversations: [conversation({ lastActivity: 2 })] }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(seqOf(view.thread('c1').messages).slice(-2)).toEqual([11, 12]);
  });

  it('forgets the text of deleted conversations, and of all when the account locks', () => {
    const { bg, view } = setup();
    bg.emit({ type: 'state', state: appState({ conversations: [conversation({ id: 'c1' }), conversation({ id: 'c2' })] }) });
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [message(1)] });
    bg.emit({ type: 'messages', conversationId: 'c2', messages: [message(1, { conversationId: 'c2' })] });
    bg.emit({ type: 'state', state: appState({ conversations: [conversation({ id: 'c2' })] }) });
    expect(view.thread('c1').messages).toHaveLength(0);
    expect(view.thread('c2').messages).toHaveLength(1);
    bg.emit({ type: 'state', state: appState({ account: { state: 'locked', displayName: 'Ana' }, conversations: [conversation({ id: 'c2' })] }) });
    expect(view.thread('c2').messages).toHaveLength(0);
  });

  it('keeps a page failure on the thread, not thrown', async () => {
    const { view } = setup();
    await view.loadLatest('c1');
    expect(view.thread('c1').error).toContain('not scripted');
  });
});
