import { describe, expect, it } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick } from 'svelte';
import Composer from '@/components/Composer.svelte';
import MessageItem from '@/components/MessageItem.svelte';
import MessageList from '@/components/MessageList.svelte';
import { LIMITS } from '@/lib/protocol/channel.ts';
import { formatTime } from '@/lib/view/format.ts';
import { COLLAPSE_CHARS } from '@/lib/view/message-layout.ts';
import { senderColourIndex } from '@/lib/view/sender-colour.ts';
import { message } from './support/fixtures.ts';

const bo = { memberId: 'bo', displayName: 'Bo', self: false };
const cy = { memberId: 'cy', displayName: 'Cy', self: false };

function items(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('[data-testid="message"]')];
}

describe('reading messages', () => {
  it('lays out message text by its own direction', () => {
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: bo, status: 'received', text: 'שלום, מה שלומך?' }) });
    expect(getByTestId('message-text').getAttribute('dir')).toBe('auto');
  });

  it('makes an https link an anchor that opens in a new tab without opener or referrer', () => {
    const text = 'read https://example.org/a?b=1. then reply';
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: bo, status: 'received', text }) });
    const body = getByTestId('message-text');
    const anchors = body.querySelectorAll('a');
    expect(anchors).toHaveLength(1);
    const a = anchors[0]!;
    expect(a.getAttribute('href')).toBe('https://example.org/a?b=1');
    expect(a.getAttribute('target')).toBe('_blank');
    expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    expect(a.textContent).toBe('https://example.org/a?b=1');
    // The text reads exactly as sent.
    expect(body.textContent).toBe(text);
  });

  it('leaves javascript: and markup as plain text', () => {
    const text = 'javascript:alert(1) <a href="javascript:alert(2)">x</a> <img src=x onerror=alert(3)>';
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: bo, status: 'received', text }) });
    const body = getByTestId('message-text');
    expect(body.querySelectorAll('a, img, script')).toHaveLength(0);
    expect(body.textContent).toBe(text);
  });

  it('collapses a long message behind "Read more" and expands it', async () => {
    const text = 'x'.repeat(COLLAPSE_CHARS + 1);
    const { getByTestId } = render(MessageItem, { message: message(1, { sender: bo, status: 'received', text }) });
    const body = getByTestId('message-text');
    const more = getByTestId('read-more');
    expect(body.classList.contains('collapsed')).toBe(true);
    expect(more.textContent).toBe('Read more');
    expect(more.getAttribute('aria-expanded')).toBe('false');
    expect(more.getAttribute('aria-controls')).toBe(body.id);
    // Collapsing only limits the height: the whole text is there to copy or find.
    expect(body.textContent).toBe(text);
    await fireEvent.click(more);
    expect(body.classList.contains('collapsed')).toBe(false);
    expect(more.getAttribute('aria-expanded')).toBe('true');
    expect(more.textContent).toBe('Show less');
    await fireEvent.click(more);
    expect(body.classList.contains('collapsed')).toBe(true);
  });

  it('collapses many short lines too, and leaves a short message alone', () => {
    const lines = render(MessageItem, { message: message(1, { sender: bo, status: 'received', text: 'a\n'.repeat(13) }) });
    expect(lines.getByTestId('message-text').classList.contains('collapsed')).toBe(true);
    lines.unmount();
    const short = render(MessageItem, { message: message(2, { sender: bo, status: 'received', text: 'hello' }) });
    expect(short.queryByTestId('read-more')).toBeNull();
    expect(short.getByTestId('message-text').classList.contains('collapsed')).toBe(false);
  });

  it('shows the sender once per run of consecutive messages', async () => {
    const t = 1_700_000_000_000;
    const list = [
      message(1, { sender: bo, status: 'received', sentAt: t }),
      message(2, { sender: bo, status: 'received', sentAt: t + 10_000 }),
      message(3, { sender: bo, status: 'received', sentAt: t + 20_000 }),
      message(4, { sender: cy, status: 'received', sentAt: t + 30_000 }),
      message(5, { sender: bo, status: 'received', sentAt: t + 40_000 }),
      // An hour later: a new run, the name again.
      message(6, { sender: bo, status: 'received', sentAt: t + 3_640_000 }),
      message(7, { kind: 'system', sender: bo, status: 'received', text: 'Bo renamed the conversation', sentAt: t + 3_650_000 }),
      message(8, { sender: bo, status: 'received', sentAt: t + 3_660_000 }),
    ];
    const { container } = render(MessageList, { messages: list, estimate: 40, overscan: 2000 });
    await tick();
    const shown = items(container);
    expect(shown.map((el) => el.dataset.continued ?? 'system')).toEqual(['false', 'true', 'true', 'false', 'false', 'false', 'system', 'false']);
    expect(shown.map((el) => el.querySelector('[data-testid="sender-name"]')?.textContent?.trim() ?? '')).toEqual([
      'Bo',
      '',
      '',
      'Cy',
      'Bo',
      'Bo',
      '',
      'Bo',
    ]);
  });

  it('in history copied from a linked device (no member ids) shows each sender’s name where the sender changes', async () => {
    const t = 1_700_000_000_000;
    const copied = (self: boolean, displayName: string) => ({ memberId: '', displayName, self });
    const list = [
      message(1, { sender: copied(true, 'Ana'), status: 'sent', sentAt: t }),
      message(2, { sender: copied(false, 'Bo'), status: 'received', sentAt: t + 10_000 }),
      message(3, { sender: copied(false, 'Bo'), status: 'received', sentAt: t + 20_000 }),
      message(4, { sender: copied(false, 'Cy'), status: 'received', sentAt: t + 30_000 }),
    ];
    const { container } = render(MessageList, { messages: list, estimate: 40, overscan: 2000 });
    await tick();
    const shown = items(container);
    expect(shown.map((el) => el.dataset.continued)).toEqual(['false', 'false', 'true', 'false']);
    expect(shown.map((el) => el.querySelector('[data-testid="sender-name"]')?.textContent?.trim() ?? '')).toEqual(['', 'Bo', '', 'Cy']);
  });

  it('gives each person a stable colour from the member id, not the name', () => {
    const colourOf = (sender: typeof bo): string => {
      const { getByTestId, unmount } = render(MessageItem, { message: message(1, { sender, status: 'received' }) });
      const c = getByTestId('sender-name').style.color;
      unmount();
      return c;
    };
    const a = colourOf(bo);
    expect(a).toBe(`var(--sender-${senderColourIndex('bo')})`);
    expect(colourOf({ ...bo, displayName: 'Someone else' })).toBe(a);
    // Two members with the same name are told apart when their ids hash apart.
    const other = ['cy', 'dee', 'eve', 'fox', 'gus'].find((id) => senderColourIndex(id) !== senderColourIndex('bo'))!;
    expect(colourOf({ ...bo, memberId: other })).not.toBe(a);
    // The palette is spread: 64 ids use most of the 8 colours.
    const used = new Set(Array.from({ length: 64 }, (_, i) => senderColourIndex(`member-${i}`)));
    expect(used.size).toBeGreaterThanOrEqual(6);
  });

  it('formats times by the locale, without forcing a leading zero', () => {
    const at = new Date(2024, 0, 2, 3, 7).getTime();
    expect(formatTime(at)).toBe(new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(at));
    expect(formatTime(at)).not.toMatch(/^03/);
  });
});

describe('pasting over the composer limit', () => {
  /** What a browser does on paste into a field with maxlength: the event, then the value cut to fit. */
  async function paste(field: HTMLTextAreaElement, pasted: string): Promise<void> {
    const e = new Event('paste', { bubbles: true, cancelable: true });
    Object.defineProperty(e, 'clipboardData', { value: { getData: (type: string) => (type === 'text/plain' ? pasted : '') } });
    field.dispatchEvent(e);
    const start = field.selectionStart;
    const end = field.selectionEnd;
    const room = LIMITS.messageText - (field.value.length - (end - start));
    field.value = field.value.slice(0, start) + pasted.slice(0, Math.max(0, room)) + field.value.slice(end);
    await fireEvent.input(field);
  }

  it('says how much was left out, and the notice goes once the text fits again', async () => {
    const { getByTestId } = render(Composer, { onsend: async () => true });
    const field = getByTestId('composer') as HTMLTextAreaElement;
    const notice = getByTestId('paste-notice');
    await paste(field, 'y'.repeat(LIMITS.messageText + 500));
    expect(field.value).toHaveLength(LIMITS.messageText);
    expect(notice.textContent).toBe(`Only the first ${LIMITS.messageText.toLocaleString()} characters fit; 500 were left out.`);
    field.value = field.value.slice(0, 100);
    await fireEvent.input(field);
    expect(notice.textContent).toBe('');
  });

  it('stays quiet when the paste fits', async () => {
    const { getByTestId } = render(Composer, { onsend: async () => true });
    const field = getByTestId('composer') as HTMLTextAreaElement;
    await paste(field, 'short paste');
    expect(field.value).toBe('short paste');
    expect(getByTestId('paste-notice').textContent).toBe('');
  });
});
