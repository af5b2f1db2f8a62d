/**
 * The composer's reply and edit modes (issue #20): the line saying which,
 * its cancel (button and Esc), a reply sent with the id it answers, an edit
 * saved with Enter, and the draft that was being written coming back.
 */
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick } from 'svelte';
import Composer from '@/components/Composer.svelte';
import type { ComposerContext } from '@/lib/view/message-actions.ts';

const REPLY: ComposerContext = { kind: 'reply', messageId: 'A'.repeat(43), name: 'Bo', preview: 'Lunch at noon?' };
const EDIT: ComposerContext = { kind: 'edit', messageId: 'B'.repeat(43), text: 'See you at 12' };

function setup(context: ComposerContext | null, over: { onsave?: (id: string, text: string) => Promise<boolean> } = {}) {
  const onsend = vi.fn(async (_text: string, _replyTo?: string) => true);
  const onsave = vi.fn(over.onsave ?? (async () => true));
  const oncancelcontext = vi.fn();
  const r = render(Composer, { props: { onsend, onsave, oncancelcontext, context, conversationName: 'Team' } });
  const field = r.getByTestId('composer') as HTMLTextAreaElement;
  return { ...r, field, onsend, onsave, oncancelcontext };
}

async function type(field: HTMLTextAreaElement, text: string): Promise<void> {
  field.value = text;
  await fireEvent.input(field);
}

describe('Composer replying', () => {
  it('says "Replying to NAME" with a preview, and the field is described by it', async () => {
    const { getByTestId, field } = setup(REPLY);
    await tick();
    const line = getByTestId('composer-context');
    expect(line.dataset.kind).toBe('reply');
    expect(getByTestId('composer-context-title').textContent).toBe('Replying to Bo');
    expect(getByTestId('composer-context-preview').textContent).toBe('Lunch at noon?');
    expect(field.getAttribute('aria-describedby')).toContain(line.id);
    expect(getByTestId('composer-context-cancel').getAttribute('aria-label')).toBe('Cancel reply');
    expect(document.activeElement).toBe(field);
  });

  it('Enter sends the text as a reply to the message and leaves the reply', async () => {
    const { field, onsend, oncancelcontext } = setup(REPLY);
    await type(field, 'Yes, noon works');
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('Yes, noon works', REPLY.messageId);
    expect(oncancelcontext).toHaveBeenCalledOnce();
    await tick();
    expect(field.value).toBe('');
  });

  it('Esc and the cancel button leave the reply without sending', async () => {
    const { field, onsend, oncancelcontext, getByTestId } = setup(REPLY);
    await type(field, 'half a thought');
    const notPrevented = await fireEvent.keyDown(field, { key: 'Escape' });
    expect(notPrevented).toBe(false);
    await fireEvent.click(getByTestId('composer-context-cancel'));
    expect(oncancelcontext).toHaveBeenCalledTimes(2);
    expect(onsend).not.toHaveBeenCalled();
    expect(field.value).toBe('half a thought');
  });

  it('a refused reply is kept as a reply and sent again as one', async () => {
    const onsend = vi.fn(async (_text: string, _replyTo?: string) => false);
    const r = render(Composer, { props: { onsend, context: REPLY, oncancelcontext: () => undefined } });
    const field = r.getByTestId('composer') as HTMLTextAreaElement;
    await type(field, 'Yes');
    await fireEvent.keyDown(field, { key: 'Enter' });
    await vi.waitFor(() => expect(r.getByTestId('unsent-text').textContent).toBe('Yes'));
    onsend.mockResolvedValue(true);
    await fireEvent.click(r.getByTestId('unsent-retry'));
    await vi.waitFor(() => expect(onsend).toHaveBeenLastCalledWith('Yes', REPLY.messageId));
  });

  it('without a context, Esc does nothing and Enter sends a plain message', async () => {
    const { field, onsend, queryByTestId } = setup(null);
    expect(queryByTestId('composer-context')).toBeNull();
    await type(field, 'plain');
    expect(await fireEvent.keyDown(field, { key: 'Escape' })).toBe(true);
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsend).toHaveBeenCalledWith('plain');
  });
});

describe('Composer editing', () => {
  it('puts the message in the box, says it is editing, saves with Enter and gives the earlier draft back', async () => {
    const onsend = vi.fn(async () => true);
    const onsave = vi.fn(async () => true);
    let context: ComposerContext | null = null;
    const r = render(Composer, { props: { onsend, onsave, context, oncancelcontext: () => undefined } });
    const field = r.getByTestId('composer') as HTMLTextAreaElement;
    await type(field, 'a draft I was writing');
    context = EDIT;
    await r.rerender({ onsend, onsave, context, oncancelcontext: () => undefined });
    await tick();
    expect(field.value).toBe('See you at 12');
    expect(r.getByTestId('composer-context').dataset.kind).toBe('edit');
    expect(r.getByTestId('composer-context-title').textContent).toBe('Editing your message');
    expect(r.getByTestId('send').textContent).toBe('Save');
    expect(r.container.querySelector('#composer-hint')!.textContent).toContain('Enter saves, Esc cancels.');

    await type(field, 'See you at 1');
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsave).toHaveBeenCalledWith(EDIT.messageId, 'See you at 1');
    expect(onsend).not.toHaveBeenCalled();
    // The conversation leaves edit mode once saved: the draft comes back.
    await r.rerender({ onsend, onsave, context: null, oncancelcontext: () => undefined });
    await tick();
    expect(field.value).toBe('a draft I was writing');
  });

  it('Esc cancels; an unchanged text saves nothing', async () => {
    const { field, onsave, oncancelcontext } = setup(EDIT);
    await tick();
    await fireEvent.keyDown(field, { key: 'Escape' });
    expect(oncancelcontext).toHaveBeenCalledOnce();
    await fireEvent.keyDown(field, { key: 'Enter' });
    expect(onsave).not.toHaveBeenCalled();
    expect(oncancelcontext).toHaveBeenCalledTimes(2);
  });

  it('a refused edit stays in the box, still in edit mode', async () => {
    const { field, onsave, oncancelcontext, getByTestId } = setup(EDIT, { onsave: async () => false });
    await tick();
    await type(field, 'See you at 2');
    await fireEvent.keyDown(field, { key: 'Enter' });
    await vi.waitFor(() => expect(onsave).toHaveBeenCalled());
    await tick();
    expect(oncancelcontext).not.toHaveBeenCalled();
    expect(field.value).toBe('See you at 2');
    expect(getByTestId('composer-context').dataset.kind).toBe('edit');
  });
});
