/**
 * The view-side rules of rich messages (issue #20): which messages take
 * which actions, what counts as one emoji in the picker's field, the
 * timer's words, replies following their edited or deleted original, and
 * reading back to a quoted message when the history ends or fails first.
 */
import { describe, expect, it } from 'vitest';
import { ChannelError, ErrorCode, type MessageView } from '@/lib/protocol/channel.ts';
import { canChange, canRespond, oneEmoji, preview } from '@/lib/view/message-actions.ts';
import { followQuotes } from '@/lib/view/quote-follow.ts';
import { timerName, timerShort, timerStatus } from '@/lib/view/timer-label.ts';
import { message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const ID = 'x'.repeat(43);
const ME = { memberId: 'me', displayName: 'Ana', self: true } as const;

describe('which messages take actions', () => {
  it('replies and reactions need a sent MIMI text that is still there; edits and deletes also need it to be ours', () => {
    const ok = message(1, { id: ID, sender: ME, status: 'sent' });
    expect([canRespond(ok), canChange(ok)]).toEqual([true, true]);
    expect([canRespond({ ...ok, sender: { ...ok.sender, self: false }, status: 'received' }), canChange({ ...ok, sender: { ...ok.sender, self: false } })]).toEqual([true, false]);
    const refused: MessageView[] = [
      { ...ok, id: 'short-legacy-id' },
      { ...ok, kind: 'system' },
      { ...ok, deleted: true },
      { ...ok, unshowable: true },
      { ...ok, status: 'sending' },
      { ...ok, status: 'failed' },
    ];
    for (const m of refused) expect([canRespond(m), canChange(m)]).toEqual([false, false]);
  });
});

describe('the picker’s field', () => {
  it('takes exactly one emoji, sequences included, and nothing else', () => {
    for (const e of ['👍', ' ❤️ ', '👨‍👩‍👧', '🇩🇪', '👍🏽', '1️⃣']) expect(oneEmoji(e)).toBe(e.trim());
    for (const e of ['', ' ', 'a', '👍👍', '👍 ok', '<b>', '1']) expect(oneEmoji(e)).toBeNull();
  });

  it('the reply line previews the first line, shortened', () => {
    expect(preview('first\nsecond')).toBe('first');
    expect(preview('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('the timer’s words', () => {
  it('names each choice, short in the header, and never hides an unknown value', () => {
    expect([0, 300, 3600, 86_400, 604_800].map(timerName)).toEqual(['Off', '5 minutes', '1 hour', '1 day', '1 week']);
    expect([undefined, 300, 3600, 86_400, 604_800].map(timerShort)).toEqual(['', '5 min', '1 h', '1 day', '1 wk']);
    expect(timerStatus(undefined)).toBe('Disappearing messages: off');
    expect(timerStatus(3600)).toBe('Disappearing messages: after 1 hour');
    expect(timerShort(42)).toBe('42 seconds');
  });
});

describe('replies follow their original', () => {
  const quote = { messageId: ID, seq: 1, senderName: 'Bo', text: 'noon?' };
  const reply = message(2, { id: 'r'.repeat(43), quote });

  it('takes the edited text (as the background shortens it) or marks it deleted', () => {
    const edited = message(1, { id: ID, text: `lunch   at\none ${'y'.repeat(200)}`, edited: true });
    const [next] = followQuotes([reply], [edited]);
    expect(next!.quote!.text.startsWith('lunch at one yyy')).toBe(true);
    expect(next!.quote!.text.length).toBe(120);
    expect(next!.quote!.senderName).toBe('Bo');
    const [gone] = followQuotes([reply], [message(1, { id: ID, text: 'Message deleted', deleted: true })]);
    expect(gone!.quote).toEqual({ messageId: ID, seq: 1, senderName: 'Bo', text: '', deleted: true });
  });

  it('leaves replies alone for a plain change (a receipt, a reaction) or an unchanged quote', () => {
    expect(followQuotes([reply], [message(1, { id: ID, text: 'noon?', status: 'sent' })])).toEqual([]);
    expect(followQuotes([reply], [message(1, { id: ID, text: 'noon?', edited: true })])).toEqual([]);
  });
});

describe('reading back to a quoted message', () => {
  it('stops when the history ends before the seq, or when a page fails', async () => {
    const { bg, view } = fakeView();
    bg.on('messages.page', ({ beforeSeq }) =>
      beforeSeq === null ? { messages: [message(50, { id: 'm50' })], nextBeforeSeq: 50 } : { messages: [message(40, { id: 'm40' })] },
    );
    await view.loadLatest('c1');
    expect(await view.loadBackTo('c1', 45)).toBe(false);
    expect(bg.callsOf('messages.page').length).toBe(2);

    const other = fakeView();
    other.bg.on('messages.page', ({ beforeSeq }) => {
      if (beforeSeq !== null) throw new ChannelError(ErrorCode.Unavailable, 'offline');
      return { messages: [message(50, { id: 'm50' })], nextBeforeSeq: 50 };
    });
    expect(await other.view.loadBackTo('c1', 10)).toBe(false);
    expect(other.view.thread('c1').error).toBe('offline');
  });
});
