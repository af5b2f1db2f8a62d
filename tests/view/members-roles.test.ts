/**
 * The members dialog with roles: who is an admin, what an admin is offered
 * (Remove, Make admin, who may invite, End for everyone) and what a member is
 * not; the delete-for-me and end-for-everyone confirmations say exactly what
 * happens; an ended conversation says it ended; the Invite button follows the policy.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationDetail, ConversationRoles, MemberView } from '@/lib/protocol/channel.ts';
import { conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const ADMIN: ConversationRoles = { admin: true, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: true, invitePolicy: 'everyone', adminCount: 1 };
const MEMBER: ConversationRoles = { admin: false, canRemove: false, canEnd: false, canInvite: true, canChangeRoles: false, invitePolicy: 'everyone', adminCount: 1 };

function member(memberId: string, displayName: string, over: Partial<MemberView> = {}): MemberView {
  return { memberId, displayName, self: false, fingerprint: `${memberId} 0000`, ...over };
}

function detail(roles: ConversationRoles, members: MemberView[]): ConversationDetail {
  return { summary: conversation({ memberCount: members.length }), members, people: [], safetyCode: '1 2 3', epoch: 2, roles };
}

async function openMembers(d: ConversationDetail, summary = conversation({ memberCount: d.members.length })) {
  const { bg, view } = fakeView({ conversations: [summary] });
  bg.on('messages.page', () => ({ messages: [] }));
  bg.on('conversation.get', () => d);
  const r = render(App, { view });
  await fireEvent.click(r.getByTestId('conversation-item'));
  await fireEvent.click(r.getByTestId('members-button'));
  await r.findByTestId('safety-code');
  return { bg, view, ...r };
}

const alice = member('al', 'Alice', { admin: true });

describe('members dialog: roles', () => {
  it('a member sees who is admin, and is offered no Remove, no Make admin and no End', async () => {
    const { getAllByTestId, queryAllByTestId, queryByTestId, getByTestId } = await openMembers(
      detail(MEMBER, [alice, member('me', 'Bob', { self: true }), member('cy', 'Carol')]),
    );
    const badges = getAllByTestId('admin-badge');
    expect(badges).toHaveLength(1);
    expect(badges[0]!.closest('li')!.dataset.name).toBe('Alice');
    expect(queryAllByTestId('remove-member')).toHaveLength(0);
    expect(queryAllByTestId('make-admin')).toHaveLength(0);
    expect(queryByTestId('end-conversation')).toBeNull();
    expect(getByTestId('delete-conversation').textContent).toBe('Delete for me');
    // Who may invite is shown, but only admins can change it.
    expect((getByTestId('invite-policy') as HTMLFieldSetElement).disabled).toBe(true);
    expect(getByTestId('invite-policy').textContent).toContain('Only admins can change this.');
  });

  it('an admin makes Carol an admin after a confirmation that says what it gives', async () => {
    const { bg, getAllByTestId, findByTestId, getByTestId } = await openMembers(
      detail(ADMIN, [member('me', 'Alice', { self: true, admin: true }), member('bo', 'Bob'), member('cy', 'Carol')]),
    );
    bg.on('conversation.setAdmin', () => null);
    expect(getAllByTestId('remove-member').map((b) => b.dataset.name)).toEqual(['Bob', 'Carol']);
    const make = getAllByTestId('make-admin');
    expect(make.map((b) => b.getAttribute('aria-label'))).toEqual(['Make Bob an admin', 'Make Carol an admin']);
    await fireEvent.click(make[1]!);
    const confirm = await findByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('Make Carol an admin?');
    expect(confirm.textContent).toContain('remove people, make others admins, change who can invite and end the conversation for everyone');
    await fireEvent.click(getByTestId('confirm'));
    await waitFor(() => expect(bg.callsOf('conversation.setAdmin')).toEqual([{ conversationId: 'c1', memberId: 'cy', admin: true }]));
  });

  it('an admin steps down only while another admin remains', async () => {
    const one = await openMembers(detail(ADMIN, [member('me', 'Alice', { self: true, admin: true }), member('bo', 'Bob')]));
    expect(one.queryByTestId('step-down')).toBeNull();
    one.unmount();
    const two = await openMembers(detail({ ...ADMIN, adminCount: 2 }, [member('me', 'Alice', { self: true, admin: true }), member('bo', 'Bob', { admin: true })]));
    two.bg.on('conversation.setAdmin', () => null);
    await fireEvent.click(two.getByTestId('step-down'));
    await fireEvent.click(await two.findByTestId('confirm'));
    await waitFor(() => expect(two.bg.callsOf('conversation.setAdmin')).toEqual([{ conversationId: 'c1', memberId: 'me', admin: false }]));
  });

  it('an admin chooses who may invite', async () => {
    const { bg, getByTestId } = await openMembers(detail(ADMIN, [member('me', 'Alice', { self: true, admin: true }), member('bo', 'Bob')]));
    bg.on('conversation.setInvitePolicy', () => null);
    expect((getByTestId('invite-policy-everyone') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(getByTestId('invite-policy-admins'));
    await waitFor(() => expect(bg.callsOf('conversation.setInvitePolicy')).toEqual([{ conversationId: 'c1', policy: 'admins' }]));
  });

  it('End for everyone names who will be removed and says it ends for everyone', async () => {
    const others = ['Bob', 'Carol', 'Dan', 'Eve'].map((n) => member(n.toLowerCase(), n));
    const { bg, getByTestId, findByTestId } = await openMembers(detail(ADMIN, [member('me', 'Alice', { self: true, admin: true }), ...others]));
    bg.on('conversation.end', () => null);
    await fireEvent.click(getByTestId('end-conversation'));
    const confirm = await findByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('End Team for everyone?');
    expect(confirm.textContent).toContain('Bob, Carol and 2 others will be removed and the conversation ends for everyone.');
    expect(getByTestId('confirm').textContent?.trim()).toBe('End for everyone');
    await fireEvent.click(getByTestId('confirm'));
    await waitFor(() => expect(bg.callsOf('conversation.end')).toEqual([{ conversationId: 'c1' }]));
  });

  it('Delete for me says you leave and the others keep it; as the only admin, who takes over', async () => {
    const { getByTestId, findByTestId } = await openMembers(detail(ADMIN, [member('me', 'Alice', { self: true, admin: true }), member('bo', 'Bob'), member('cy', 'Carol')]));
    await fireEvent.click(getByTestId('delete-conversation'));
    const text = (await findByTestId('confirm-dialog')).textContent!;
    expect(text).toContain('Delete Team for you?');
    expect(text).toContain('You leave the conversation; the others keep it.');
    expect(text).toContain('Bob becomes an admin, as you are the only one.');
    expect(text).toContain('removed from this device');
  });

  it('Leave as a member says only that you leave', async () => {
    const { getByTestId, findByTestId } = await openMembers(detail(MEMBER, [alice, member('me', 'Bob', { self: true })]));
    await fireEvent.click(getByTestId('leave-conversation'));
    const text = (await findByTestId('confirm-dialog')).textContent!;
    expect(text).toContain('You leave the conversation; the others keep it.');
    expect(text).not.toContain('becomes an admin');
  });
});

describe('an ended conversation, and the Invite button', () => {
  it('the banner and the details say who ended it, not "You were removed"', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ status: 'removed', endedBy: 'Alice' })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { getByTestId, findByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await tick();
    expect(getByTestId('status-banner').textContent).toBe('Alice ended this conversation.');
    await fireEvent.click(getByTestId('members-button'));
    const note = (await findByTestId('not-a-member')).textContent!;
    expect(note).toContain('Alice ended this conversation.');
    expect(note).not.toContain('You were removed');
  });

  it('the one who ended it reads that they did', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ status: 'removed', endedBy: 'You' })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { getByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await tick();
    expect(getByTestId('status-banner').textContent).toBe('You ended this conversation for everyone.');
  });

  it('no Invite button when only admins may invite and you are not one', async () => {
    const { bg, view } = fakeView({ conversations: [conversation({ canInvite: false })] });
    bg.on('messages.page', () => ({ messages: [] }));
    const { getByTestId, queryByTestId } = render(App, { view });
    await fireEvent.click(getByTestId('conversation-item'));
    await tick();
    expect(queryByTestId('invite-button')).toBeNull();
    view.app = { ...view.app!, conversations: [conversation({ canInvite: true })] };
    await tick();
    expect(getByTestId('invite-button')).toBeTruthy();
  });
});
