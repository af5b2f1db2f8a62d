/**
 * A side panel opened on a conversation (the popup's open request) reads that
 * conversation's newest page at once, while the background sends the state,
 * and reads it once: the conversation view that opens waits for that read.
 * The first ready render is the conversation itself, not the list built and
 * torn down a moment later (issue 17, "the side panel stays fast").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { render, waitFor } from '@testing-library/svelte';
import SidePanel from '@/entrypoints/sidepanel/App.svelte';
import { FIRST_PAGE, ViewState } from '@/lib/view/view-state.svelte.ts';
import type { MessagePage } from '@/lib/protocol/channel.ts';
import { appState, conversation, messages } from './support/fixtures.ts';
import { FakeBackground } from './support/fake-background.ts';

afterEach(() => localStorage.clear());

describe('opening the side panel on a conversation', () => {
  it('reads the newest page before the state comes, once, and never builds the list on the way', async () => {
    localStorage.setItem('microchat.openConversation', JSON.stringify({ conversationId: 'c1', at: Date.now() }));
    const bg = new FakeBackground();
    let answer: ((page: MessagePage) => void) | undefined;
    bg.on('messages.page', () => new Promise<MessagePage>((resolve) => (answer = resolve)));
    const view = new ViewState(bg);
    const seen: string[] = [];
    // Every screen ever added, even one removed again before anyone looked.
    const watch = new MutationObserver((records) => {
      for (const node of records.flatMap((r) => [...r.addedNodes])) {
        if (!(node instanceof Element)) continue;
        for (const el of [node, ...node.querySelectorAll('[data-testid]')]) {
          const id = el.getAttribute('data-testid');
          if ((id === 'conversation-list' || id === 'conversations-empty' || id === 'conversation') && !seen.includes(id)) seen.push(id);
        }
      }
    });
    watch.observe(document.body, { childList: true, subtree: true });
    try {
      const r = render(SidePanel, { view });
      expect(bg.callsOf('messages.page')).toEqual([{ conversationId: 'c1', beforeSeq: null, limit: FIRST_PAGE }]);
      bg.emit({ type: 'state', state: appState({ conversations: [conversation({ id: 'c1', name: 'Family' }), conversation({ id: 'c2', name: 'Work' })] }) });
      await r.findByTestId('conversation');
      answer!({ messages: messages(1, 21) });
      await waitFor(() => expect(r.getAllByTestId('message-text').at(-1)?.textContent).toBe('Message number 20'));
      expect(bg.callsOf('messages.page')).toHaveLength(1);
      expect(seen).toEqual(['conversation']);
    } finally {
      watch.disconnect();
    }
  });

  it('two reads of the newest page at once make one request; the next read asks again', async () => {
    const bg = new FakeBackground();
    let n = 0;
    bg.on('messages.page', () => ({ messages: messages(1, 6 + n++) }));
    const view = new ViewState(bg);
    await Promise.all([view.loadLatest('c1'), view.loadLatest('c1')]);
    expect(bg.callsOf('messages.page')).toHaveLength(1);
    expect(view.thread('c1').messages).toHaveLength(5);
    await view.loadLatest('c1');
    expect(bg.callsOf('messages.page')).toHaveLength(2);
    expect(view.thread('c1').messages).toHaveLength(6);
  });
});
