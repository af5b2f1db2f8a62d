import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationDetail } from '@/lib/protocol/channel.ts';
import { appState, conversation, message, messages } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const detail: ConversationDetail = {
  summary: conversation(),
  members: [
    { memberId: 'me', displayName: 'Ana', self: true, fingerprint: '1111 2222 3333', admin: true },
    { memberId: 'bo', displayName: 'Bo', self: false, fingerprint: '4444 5555 6666' },
    { memberId: 'cy', displayName: 'Cy', self: false, fingerprint: '7777 8888 9999' },
  ],
  // No proofs in these fixtures: the view shows each member as a person of their own.
  people: [],
  safetyCode: '12345 67890 13579 24680',
  epoch: 4,
  roles: { admin: true, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: true, invitePolicy: 'everyone', adminCount: 1 },
};

function twoConversations() {
  return [
    conversation({ id: 'c2', name: 'Older', lastActivity: 1_000, unread: 0 }),
    conversation({ id: 'c1', name: 'Team', lastActivity: 5_000, unread: 3, lastMessage: { preview: 'see you', senderName: 'Bo', fromSelf: false } }),
  ];
}

describe('Conversation list and conversation', () => {
  it('lists conversations by activity with previews and unread badges', () => {
    const { view } = fakeView({ conversations: twoConversations() });
    const { getAllByTestId } = render(App, { view });
    const items = getAllByTestId('conversation-item');
    expect(items.map((i) => i.dataset.name)).toEqual(['Team', 'Older']);
    expect(items[0]!.textContent).toContain('Bo: see you');
    expect(within(items[0]!).getByTestId('unread-badge').textContent).toContain('3 unread');
    expect(within(items[1]!).queryByTestId('unread-badge')).toBeNull();
  });

  it('creates a conversation and opens it', async () => {
    const { bg, view } = fakeView();
    bg.on('conversation.create', () => {
      view.app = appState({ conversations: [conversation({ id: 'new1', name: 'Trip' })] });
      return { conversationId: 'new1' };
    });
    bg.on('messages.page', () => ({ messages: [] }));
    const { getByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('empty-create'));
    const name = getByTestId('new-conversation-name') as HTMLInputElement;
    name.value = 'Trip';
    await fireEvent.input(name);
    await fireEvent.click(getByTestId('new-conversation-create'));
    expect((await findByTestId('conversation-name')).textContent).toBe('Trip');
    expect(bg.callsOf('conversation.create')).toEqual([{ name: 'Trip' }]);
  });

  it('joins with a pasted code and shows the background’s refusal', async () => {
    const { bg, view } = fakeView();
    bg.on('invite.join', ({ link }) => {
      if (link.includes('bad')) throw new Error('This invite has expired.');
      return { conversationId: 'c9' };
    });
    const { getByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('new-menu'));
    await fireEvent.click(getByTestId('new-menu-join'));
    const input = getByTestId('join-link-input') as HTMLInputElement;
    input.value = 'microchat:join?bad';
    await fireEvent.input(input);
    await fireEvent.click(getByTestId('join-submit'));
    expect((await findByTestId('join-error')).textContent).toContain('expired');
  });

  it('opens a conversation: reads its history, marks it read, focuses the composer, sends with Enter', async () => {
    const { bg, view } = fakeView({ conversations: twoConversations() });
    view.connect();
    bg.on('messages.page', () => ({ messages: messages(1, 21).map((m) => ({ ...m, conversationId: 'c1' })), nextBeforeSeq: 1 }));
    bg.on('conversation.markRead', () => null);
    bg.on('message.send', ({ text }) => message(21, { text, sender: { memberId: 'me', displayName: 'Ana', self: true }, status: 'sending' }));
    const { getAllByTestId, getByTestId, findAllByTestId } = render(App, { view });
    await fireEvent.click(getAllByTestId('conversation-item')[0]!);

    await waitFor(() => expect(document.activeElement).toBe(getByTestId('composer')));
    expect(getByTestId('conversation-name').textContent).toBe('Team');
    expect(getByTestId('members-button').textContent).toContain('3 members');
    expect(bg.callsOf('messages.page')[0]).toEqual({ conversationId: 'c1', beforeSeq: null, limit: 100 });
    expect(bg.callsOf('conversation.markRead')).toEqual([{ conversationId: 'c1' }]);
    expect((await findAllByTestId('message')).length).toBeGreaterThan(0);

    const composer = getByTestId('composer') as HTMLTextAreaElement;
    composer.value = 'on my way';
    await fireEvent.input(composer);
    await fireEvent.keyDown(composer, { key: 'Enter' });
    await waitFor(() => {
      const mine = getAllByTestId('message').find((m) => m.dataset.seq === '21');
      expect(mine?.dataset.status).toBe('sending');
      expect(mine?.textContent).toContain('on my way');
    });
    expect(bg.callsOf('message.send')).toEqual([{ conversationId: 'c1', text: 'on my way' }]);

    // Back to the list, focus lands on a conversation.
    await fireEvent.click(getByTestId('back'));
    await waitFor(() => expect(document.activeElement?.getAttribute('data-testid')).toBe('conversation-item'));
  });

  it('renames inline', async () => {
    const { bg, view } = fakeView({ conversations: [conversation()] });
    bg.on('messages.page', () => ({ messages: [] }));
    bg.on('conversation.rename', () => null);
    const { getByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await fireEvent.click(getByTestId('rename'));
    const input = getByTestId('rename-input') as HTMLInputElement;
    input.value = 'Team 2';
    await fireEvent.input(input);
    await fireEvent.click(getByTestId('rename-save'));
    await waitFor(() => expect(bg.callsOf('conversation.rename')).toEqual([{ conversationId: 'c1', name: 'Team 2' }]));
  });

  it('disables the composer with the reason after removal', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ status: 'removed' })] });
    bg.on('messages.page', () => ({ messages: [message(1, { kind: 'system', text: 'Ana removed you' })] }));
    const { getByTestId, queryByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await tick();
    expect((getByTestId('composer') as HTMLTextAreaElement).disabled).toBe(true);
    expect(getByTestId('status-banner').textContent).toContain('removed');
    expect(queryByTestId('invite-button')).toBeNull();
  });

  it('members: fingerprints and safety code; removing asks first; Escape closes only the confirmation', async () => {
    const { bg, view } = fakeView({ conversations: [conversation()] });
    bg.on('messages.page', () => ({ messages: [] }));
    let removed = false;
    bg.on('conversation.get', () => (removed ? { ...detail, members: detail.members.filter((m) => m.memberId !== 'cy') } : detail));
    bg.on('conversation.removeMember', () => {
      removed = true;
      return null;
    });
    const { getByTestId, findByTestId, getAllByTestId, queryByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    const membersButton = getByTestId('members-button');
    membersButton.focus();
    await fireEvent.click(membersButton);

    expect((await findByTestId('safety-code')).textContent).toBe('12345 67890 13579 24680');
    expect(getByTestId('members-dialog').textContent).toContain('4444 5555 6666');
    const removes = getAllByTestId('remove-member');
    expect(removes.map((b) => b.dataset.name)).toEqual(['Bo', 'Cy']); // not yourself

    await fireEvent.click(removes[1]!);
    const confirm = await findByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('Remove Cy?');
    await fireEvent.keyDown(confirm, { key: 'Escape' });
    await tick();
    expect(queryByTestId('confirm-dialog')).toBeNull();
    expect(queryByTestId('members-dialog')).not.toBeNull();
    expect(bg.callsOf('conversation.removeMember')).toHaveLength(0);

    const removeCy = getAllByTestId('remove-member')[1]!;
    removeCy.focus(); // a real click focuses the button
    await fireEvent.click(removeCy);
    await fireEvent.click(await findByTestId('confirm'));
    await waitFor(() => expect(bg.callsOf('conversation.removeMember')).toEqual([{ conversationId: 'c1', memberId: 'cy' }]));
    // The confirmation closed and the button that opened it is gone with Cy: focus returns to the members dialog.
    await waitFor(() => expect(document.activeElement).toBe(getByTestId('members-dialog')));

    // Closing the members dialog gives focus back to the button that opened it.
    await fireEvent.keyDown(getByTestId('members-dialog'), { key: 'Escape' });
    await waitFor(() => expect(document.activeElement).toBe(getByTestId('members-button')));
  });

  it('delete for me explains that you leave and the others keep it, then returns to the list', async () => {
    const { bg, view } = fakeView({ conversations: [conversation()] });
    bg.on('messages.page', () => ({ messages: [] }));
    bg.on('conversation.get', () => detail);
    bg.on('conversation.delete', () => {
      view.app = appState({ conversations: [] });
      return null;
    });
    const { getByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await fireEvent.click(getByTestId('members-button'));
    await fireEvent.click(await findByTestId('delete-conversation'));
    expect((await findByTestId('confirm-dialog')).textContent).toContain('You leave the conversation; the others keep it.');
    await fireEvent.click(getByTestId('confirm'));
    expect(await findByTestId('conversations-empty')).toBeTruthy();
    expect(bg.callsOf('conversation.delete')).toEqual([{ conversationId: 'c1' }]);
  });
});

describe('A conversation you are no longer in', () => {
  it('shows no stale member count; its details say why there is no member list, and offer delete', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ status: 'removed', memberCount: 3 })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { getByTestId, findByTestId, queryByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    const button = getByTestId('members-button');
    expect(button.textContent?.trim()).toBe('Details');
    expect(button.getAttribute('aria-label')).toBe('Conversation details');
    expect(getByTestId('status-banner').textContent).toContain('removed');
    await fireEvent.click(button);
    expect((await findByTestId('not-a-member')).textContent).toContain('You were removed');
    expect(queryByTestId('safety-code')).toBeNull();
    expect(queryByTestId('leave-conversation')).toBeNull();
    expect(getByTestId('delete-conversation')).toBeTruthy();
    // The group is gone from the device: nothing to ask the background for.
    expect(bg.callsOf('conversation.get')).toHaveLength(0);
  });
});

describe('Marking read', () => {
  it('marks again when more unread messages arrive while the conversation is open', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ unread: 2 })] });
    bg.on('messages.page', () => ({ messages: [] }));
    let release: () => void = () => undefined;
    bg.on('conversation.markRead', () => new Promise<null>((r) => (release = () => r(null))));
    const { getByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await waitFor(() => expect(bg.callsOf('conversation.markRead')).toHaveLength(1));
    // A message arrives while the first request is still out; the background's answer did not clear it.
    view.app = appState({ conversations: [conversation({ unread: 3 })] });
    await tick();
    expect(bg.callsOf('conversation.markRead')).toHaveLength(1);
    release();
    await waitFor(() => expect(bg.callsOf('conversation.markRead')).toHaveLength(2));
    release();
    view.app = appState({ conversations: [conversation({ unread: 0 })] });
    await tick();
    expect(bg.callsOf('conversation.markRead')).toHaveLength(2);
  });
});
