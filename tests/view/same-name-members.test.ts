// Two members called the same: the background tags both with the start of
// their key fingerprints, and every place that shows a name shows the tag, so
// a member who takes another's name is told apart in messages, in the
// members list and in the remove confirmation.
import { describe, expect, it } from 'vitest';
import { fireEvent, render, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import MessageItem from '@/components/MessageItem.svelte';
import type { ConversationDetail } from '@/lib/protocol/channel.ts';
import { conversation, message } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const realAlice = { memberId: 'al', displayName: 'Alice', self: false, tag: '48213' };
const fakeAlice = { memberId: 'ma', displayName: 'Alice', self: false, tag: '90715' };

const detail: ConversationDetail = {
  summary: conversation(),
  members: [
    { memberId: 'me', displayName: 'Ana', self: true, fingerprint: '11111 22222 33333' },
    { ...realAlice, fingerprint: '48213 55555 66666' },
    { ...fakeAlice, fingerprint: '90715 88888 99999' },
  ],
  // No proofs in these fixtures: the view shows each member as a person of their own.
  people: [],
  safetyCode: '12345 67890 13579 24680',
  epoch: 4,
  // We are an admin here, so Remove is offered.
  roles: { admin: true, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: true, invitePolicy: 'everyone', adminCount: 1 },
};

describe('members with the same name', () => {
  it('shows each sender with their tag, so the two Alices read differently', () => {
    const real = render(MessageItem, { message: message(1, { sender: realAlice, text: 'real' }) });
    const fake = render(MessageItem, { message: message(2, { sender: fakeAlice, text: 'fake' }) });
    const senderOf = (r: typeof real): string => within(r.container).getByTestId('message').querySelector('.sender')!.textContent!.replace(/\s+/g, ' ').trim();
    const realText = senderOf(real);
    const fakeText = senderOf(fake);
    expect(realText).toBe('Alice · 48213');
    expect(fakeText).toBe('Alice · 90715');
    expect(within(fake.container).getByTestId('sender-tag').textContent).toContain('90715');
    expect(within(fake.container).getByTestId('message').dataset.senderTag).toBe('90715');
  });

  it('shows no tag for a name that is unique', () => {
    const { queryByTestId, getByTestId } = render(MessageItem, { message: message(3, { sender: { memberId: 'bo', displayName: 'Bo', self: false }, text: 'hi' }) });
    expect(queryByTestId('sender-tag')).toBeNull();
    expect(getByTestId('message').querySelector('.sender')!.textContent!.trim()).toBe('Bo');
  });

  it('lists both Alices with their tags and names the right one in the remove confirmation', async () => {
    const { bg, view } = fakeView({ conversations: [conversation()] });
    bg.on('messages.page', () => ({ messages: [] }));
    bg.on('conversation.get', () => detail);
    const { getByTestId, findAllByTestId, getAllByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await fireEvent.click(getByTestId('members-button'));
    const rows = await findAllByTestId('member');
    const shown = rows.map((r) => r.querySelector('.who')!.textContent!.replace(/\s+/g, ' ').trim());
    expect(shown[1]).toContain('Alice · 48213');
    expect(shown[2]).toContain('Alice · 90715');
    expect(getAllByTestId('member-tag').map((t) => t.textContent!.replace(/\s+/g, ' ').trim())).toEqual(['· 48213', '· 90715']);
    expect(rows[0]!.querySelector('[data-testid="member-tag"]')).toBeNull(); // a unique name has no tag
    const removes = getAllByTestId('remove-member');
    expect(removes.map((b) => b.getAttribute('aria-label'))).toEqual(['Remove Alice · 48213', 'Remove Alice · 90715']);
    await fireEvent.click(removes[1]!);
    expect((await findByTestId('confirm-dialog')).textContent).toContain('Remove Alice · 90715?');
  });
});
