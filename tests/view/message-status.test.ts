import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import MessageItem from '@/components/MessageItem.svelte';
import ConversationView from '@/components/ConversationView.svelte';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const me = { memberId: 'me', displayName: 'Ana', self: true };

describe('Message status', () => {
  it.each([
    ['sending', 'Sending…'],
    ['sent', 'Sent'],
    ['failed', 'Not sent'],
  ] as const)('shows an own message that is %s', (status, label) => {
    const { getByTestId, queryByTestId } = render(MessageItem, { message: message(1, { sender: me, status }), onretry: vi.fn() });
    const el = getByTestId('message');
    expect(el.dataset.status).toBe(status);
    expect(el.dataset.sender).toBe('Ana');
    expect(el.dataset.self).toBe('true');
    expect(getByTestId('message-status').textContent).toContain(label);
    expect(queryByTestId('retry') !== null).toBe(status === 'failed');
  });

  it('shows why a message failed and retries it by id', async () => {
    const onretry = vi.fn();
    const { getByTestId, getByText } = render(MessageItem, {
      message: message(7, { sender: me, status: 'failed', error: 'The relay is unreachable.' }),
      onretry,
    });
    expect(getByText('The relay is unreachable.')).toBeTruthy();
    await fireEvent.click(getByTestId('retry'));
    expect(onretry).toHaveBeenCalledWith('m7');
  });

  it('shows received messages with their sender and no delivery status', () => {
    const { getByTestId, queryByTestId, getByText } = render(MessageItem, {
      message: message(2, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, status: 'received', text: 'hi Ana' }),
    });
    expect(getByTestId('message').dataset.sender).toBe('Bo');
    expect(getByText('Bo')).toBeTruthy();
    expect(getByTestId('message-text').textContent).toBe('hi Ana');
    expect(queryByTestId('message-status')).toBeNull();
  });

  it('styles system messages apart from text', () => {
    const { getByTestId } = render(MessageItem, {
      message: message(3, { kind: 'system', text: 'Ana removed Cy', status: 'received' }),
    });
    const el = getByTestId('message');
    expect(el.dataset.kind).toBe('system');
    expect(el.classList.contains('system')).toBe(true);
    expect(el.textContent).toContain('Ana removed Cy');
  });

  it('retries through the background and shows the new status', async () => {
    const failed = message(5, { sender: me, status: 'failed', error: 'Offline' });
    const { bg, view } = fakeView({ conversations: [conversation()] });
    bg.on('messages.page', () => ({ messages: [message(4), failed] }));
    bg.on('message.retry', ({ messageId }) => ({ ...failed, id: messageId, status: 'sending', error: undefined }));
    view.connect();
    const thread = view.thread('c1');
    const { findAllByTestId, getByTestId } = render(ConversationView, { view, summary: conversation(), thread, onback: vi.fn() });
    await waitFor(() => expect(thread.loaded).toBe(true));
    await fireEvent.click(getByTestId('retry'));
    expect(bg.callsOf('message.retry')).toEqual([{ conversationId: 'c1', messageId: 'm5' }]);
    await waitFor(async () => {
      const own = (await findAllByTestId('message')).find((el) => el.dataset.seq === '5');
      expect(own?.dataset.status).toBe('sending');
    });
    // Then the background reports it sent, as a live event.
    bg.emit({ type: 'messages', conversationId: 'c1', messages: [{ ...failed, status: 'sent', error: undefined }] });
    await waitFor(async () => {
      const own = (await findAllByTestId('message')).find((el) => el.dataset.seq === '5');
      expect(own?.dataset.status).toBe('sent');
    });
  });
});
