import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick } from 'svelte';
import Composer from '@/components/Composer.svelte';

function setup(onsend = vi.fn(async () => true), disabledReason: string | null = null) {
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
