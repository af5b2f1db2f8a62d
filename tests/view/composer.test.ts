import { describe, expect, it, vi, type Mock } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick } from 'svelte';
import Composer from '@/components/Composer.svelte';

function setup(onsend: Mock<(text: string) => Promise<boolean>> = vi.fn(async () => true), disabledReason: string | null = null) {
  const r = render(Composer, { onsend, disabledReason, conversationName: 'Team' });
  const field = r.getByTestId('composer') as HTMLTextAreaElement;
  return { ...r, field, onsend };
}

async function type(field: HTMLTextAreaElement, text: string): Promise<void> {
  field.value = text;
  await fireEvent.input(field);
}

describe('Composer keyboard', () => {
  it('has a label naming the conversation', () => {
    const { getByLabelText } = setup();
    expect(getByLabelText('Message to Team')).toBeTruthy();
  });

  it('sends on Enter and clears the field', async () => {
    const { field, onsend } = setup();
    await type(field, 'hello there');
    const notPrevented = await fireEvent.keyDown(field, { key: 'Enter' });
    expect(notPrevented).toBe(false);
    expect(onsend).toHaveBeenCalledWith('hello there');
    await tick();
    expect(field.value).toBe('');
  });

  it('leaves Shift+Enter to the textarea (a new line) and does not send', async () => {
    const { field, onsend } = setup();
    await type(field, 'line one');
    const notPrevented = await fireEvent.keyDown(field, { key: 'Enter', shiftKey: true });
    expect(notPrevented).toBe(true);
    expect(onsend).not.toHaveBeenCalled();
    await type(field, 'line one\nline two');
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('line one\nline two');
  });

  it('does not send while an input method is composing, nor empty text', async () => {
    const { field, onsend } = setup();
    await fireEvent.keyDown(field, { key: 'Enter' });
    await type(field, '   ');
    await fireEvent.keyDown(field, { key: 'Enter' });
    await type(field, 'かな');
    await fireEvent.keyDown(field, { key: 'Enter', isComposing: true });
    expect(onsend).not.toHaveBeenCalled();
  });

  it('sends with the Send button too', async () => {
    const { field, onsend, getByTestId } = setup();
    const send = getByTestId('send') as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await type(field, 'by button');
    expect(send.disabled).toBe(false);
    send.focus();
    await fireEvent.click(send);
    expect(onsend).toHaveBeenCalledWith('by button');
    expect(document.activeElement).toBe(field);
  });

  it('puts the text back when the message was not accepted', async () => {
    const { field } = setup(vi.fn(async () => false));
    await type(field, 'keep me');
    await fireEvent.keyDown(field, { key: 'Enter' });
    await tick();
    await tick();
    expect(field.value).toBe('keep me');
  });

  it('is disabled with the reason when the conversation cannot take messages', async () => {
    const { field, getByTestId, onsend } = setup(undefined, 'You were removed from this conversation.');
    expect(field.disabled).toBe(true);
    expect(getByTestId('composer-disabled').textContent).toContain('You were removed');
    expect(field.getAttribute('aria-describedby')).toBe('composer-disabled');
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsend).not.toHaveBeenCalled();
    expect((getByTestId('send') as HTMLButtonElement).disabled).toBe(true);
  });
});

/** An `onsend` that answers only when the test says so, like a background busy encrypting. */
function slowBackground() {
  const waiting: { text: string; answer: (ok: boolean) => void }[] = [];
  const onsend = vi.fn((text: string) => new Promise<boolean>((answer) => waiting.push({ text, answer })));
  return { onsend, waiting };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

describe('Composer under a fast typist (issue 17, item 3)', () => {
  it('sends each Enter as its own message, in order, one request at a time, and empties the box at once', async () => {
    const { onsend, waiting } = slowBackground();
    const { field } = setup(onsend);
    const texts = Array.from({ length: 20 }, (_, i) => `burst ${i + 1}`);
    for (const t of texts) {
      await type(field, t);
      const notPrevented = await fireEvent.keyDown(field, { key: 'Enter' });
      expect(notPrevented).toBe(false);
      // Synchronously empty: the next keystroke starts a new message.
      expect(field.value).toBe('');
    }
    // Only the first is in flight; the rest wait their turn rather than overtake it.
    expect(onsend).toHaveBeenCalledTimes(1);
    for (let i = 0; i < texts.length; i++) {
      expect(waiting.length).toBe(i + 1);
      expect(waiting[i]!.text).toBe(texts[i]);
      waiting[i]!.answer(true);
      await settle();
    }
    expect(onsend.mock.calls.map((c) => c[0])).toEqual(texts);
    expect(field.value).toBe('');
  });

  it('reads the box itself at Enter, even when the bound value has not caught up', async () => {
    const { onsend } = setup();
    const field = document.querySelector('[data-testid="composer"]') as HTMLTextAreaElement;
    field.value = 'typed, no input event yet';
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('typed, no input event yet');
    expect(field.value).toBe('');
  });

  it('keeps a refused text and the ones queued behind it, in order, without touching what is being typed', async () => {
    const { onsend, waiting } = slowBackground();
    const { field, getByTestId, getAllByTestId } = setup(onsend);
    for (const t of ['one', 'two', 'three']) {
      await type(field, t);
      await fireEvent.keyDown(field, { key: 'Enter' });
    }
    await type(field, 'still typing');
    waiting[0]!.answer(false);
    await settle();
    // 'two' and 'three' were not sent ahead of 'one'.
    expect(onsend).toHaveBeenCalledTimes(1);
    expect(field.value).toBe('still typing');
    expect(getAllByTestId('unsent-text').map((e) => e.textContent)).toEqual(['one', 'two', 'three']);
    expect(getByTestId('composer-unsent').textContent).toContain('3 messages were not sent');

    await fireEvent.click(getByTestId('unsent-retry'));
    for (let i = 1; i <= 3; i++) {
      waiting[i]!.answer(true);
      await settle();
    }
    expect(onsend.mock.calls.map((c) => c[0])).toEqual(['one', 'one', 'two', 'three']);
    expect(document.querySelector('[data-testid="composer-unsent"]')).toBeNull();
    expect(field.value).toBe('still typing');
  });

  it('keeps the text when sending throws', async () => {
    const { field } = setup(vi.fn(async () => Promise.reject(new Error('worker gone'))));
    await type(field, 'do not lose me');
    await fireEvent.keyDown(field, { key: 'Enter' });
    await settle();
    expect(field.value).toBe('do not lose me');
  });
});
