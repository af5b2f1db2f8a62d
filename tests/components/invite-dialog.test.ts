import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import InviteDialog from '@/components/InviteDialog.svelte';
import { fakeView } from './support/fake-background.ts';
import { ChannelError, ErrorCode } from '@/lib/extension/protocol.ts';

const LINK = 'microchat:join?r=https%3A%2F%2Frelay.example.org&i=inv_123&k=key_abc&v=verify_abc';

function setup() {
  const { bg, view } = fakeView();
  bg.on('invite.create', () => ({ link: LINK, expiresAt: Date.now() + 3_600_000, inviteId: 'inv_123' }));
  bg.on('invite.list', () => ({ invites: [], revoked: false }));
  const onclose = vi.fn();
  const copy = vi.fn(async () => undefined);
  const r = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose, copy });
  return { ...r, bg, onclose, copy };
}

describe('Invite dialog', () => {
  it('is a labelled modal dialog with focus inside', () => {
    const { getByRole, getByTestId } = setup();
    const dialog = getByRole('dialog', { name: 'Invite to Team' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(getByTestId('invite-mode-one-time'));
  });

  it('creates a one-time code and shows it with a Copy button and how to use it', async () => {
    const { getByTestId, findByTestId, bg, copy } = setup();
    await fireEvent.click(getByTestId('invite-create'));
    const link = (await findByTestId('invite-link')) as HTMLInputElement;
    expect(link.value).toBe(LINK);
    expect(link.readOnly).toBe(true);
    expect(bg.callsOf('invite.create')).toEqual([{ conversationId: 'c1', mode: 'one-time', expiresInHours: 24 }]);
    await fireEvent.click(getByTestId('invite-copy'));
    expect(copy).toHaveBeenCalledWith(LINK);
    await waitFor(() => expect(getByTestId('invite-dialog').textContent).toContain('Copied.'));
    expect(getByTestId('invite-dialog').textContent).toContain('must not be opened in a browser');
  });

  it('creates an expiring code for the chosen number of hours', async () => {
    const { getByTestId, findByTestId, bg } = setup();
    await fireEvent.click(getByTestId('invite-mode-expiring'));
    const hours = getByTestId('invite-hours') as HTMLInputElement;
    hours.value = '48';
    await fireEvent.input(hours);
    await fireEvent.click(getByTestId('invite-create'));
    await findByTestId('invite-link');
    expect(bg.callsOf('invite.create')).toEqual([{ conversationId: 'c1', mode: 'expiring', expiresInHours: 48 }]);
  });

  it('refuses hours out of range before asking the background', async () => {
    const { getByTestId, bg } = setup();
    const hours = getByTestId('invite-hours') as HTMLInputElement;
    hours.value = '0';
    await fireEvent.input(hours);
    expect((getByTestId('invite-create') as HTMLButtonElement).disabled).toBe(true);
    expect(bg.callsOf('invite.create')).toHaveLength(0);
  });

  it('shows the background’s error', async () => {
    const { bg, view } = fakeView();
    bg.on('invite.create', () => {
      throw new ChannelError(ErrorCode.Forbidden, 'Only members can invite.');
    });
    bg.on('invite.list', () => ({ invites: [], revoked: false }));
    const { getByTestId, findByRole } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn() });
    await fireEvent.click(getByTestId('invite-create'));
    expect((await findByRole('alert')).textContent).toContain('Only members can invite.');
  });

  it('lists the open invites and revokes one: the background is asked, the list reloads, the shown link goes', async () => {
    const { bg, view } = fakeView();
    const later = Date.now() + 7_200_000;
    let open = [
      { inviteId: 'inv_new', mode: 'one-time' as const, expiresAt: later },
      { inviteId: 'inv_old', mode: 'expiring' as const, expiresAt: later },
    ];
    bg.on('invite.list', () => ({ invites: open, revoked: false }));
    bg.on('invite.create', () => ({ link: LINK, expiresAt: later, inviteId: 'inv_new' }));
    bg.on('invite.revoke', ({ inviteId }) => {
      open = open.filter((i) => i.inviteId !== inviteId);
      return null;
    });
    const { getByTestId, findAllByTestId, findByTestId, queryByTestId } = render(InviteDialog, {
      view,
      conversationId: 'c1',
      conversationName: 'Team',
      onclose: vi.fn(),
    });
    const rows = await findAllByTestId('open-invite');
    expect(rows.map((r) => r.dataset.inviteId)).toEqual(['inv_new', 'inv_old']);
    expect(rows[0]!.textContent).toContain('One person');
    expect(rows[1]!.textContent).toContain('Anyone with the code');
    await fireEvent.click(getByTestId('invite-create'));
    await findByTestId('invite-link');
    const revokeNew = (await findAllByTestId('invite-revoke'))[0]!;
    await fireEvent.click(revokeNew);
    expect(bg.callsOf('invite.revoke')).toEqual([{ conversationId: 'c1', inviteId: 'inv_new' }]);
    expect((await findByTestId('revoke-note')).textContent).toContain('no longer works');
    await waitFor(() => expect(queryByTestId('invite-link')).toBeNull());
    await waitFor(() => expect(getByTestId('open-invites').querySelectorAll('li')).toHaveLength(1));
  });

  it('shows why a revoke failed and keeps the invite listed', async () => {
    const { bg, view } = fakeView();
    bg.on('invite.list', () => ({ invites: [{ inviteId: 'inv_1', mode: 'expiring' as const, expiresAt: Date.now() + 60_000 }], revoked: false }));
    bg.on('invite.revoke', () => {
      throw new ChannelError(ErrorCode.Unavailable, 'The relay is not reachable right now.');
    });
    const { findByTestId, findByRole, getAllByTestId } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn() });
    await fireEvent.click(await findByTestId('invite-revoke'));
    expect((await findByRole('alert')).textContent).toContain('not reachable');
    expect(getAllByTestId('open-invite')).toHaveLength(1);
  });

  it('says when the open invites were revoked because the membership changed, until a new code is made', async () => {
    const { bg, view } = fakeView();
    let revoked = true;
    bg.on('invite.list', () => ({ invites: [], revoked }));
    bg.on('invite.create', () => {
      revoked = false;
      return { link: LINK, expiresAt: Date.now() + 3_600_000, inviteId: 'inv_123' };
    });
    const { getByTestId, findByTestId, queryByTestId } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn() });
    expect((await findByTestId('invites-revoked')).textContent).toContain('revoked because someone was removed or left');
    await fireEvent.click(getByTestId('invite-create'));
    await findByTestId('invite-link');
    await waitFor(() => expect(queryByTestId('invites-revoked')).toBeNull());
  });

  it('closes on Escape and with the close button', async () => {
    const { getByRole, getByLabelText, onclose } = setup();
    await fireEvent.keyDown(getByRole('dialog'), { key: 'Escape' });
    expect(onclose).toHaveBeenCalledTimes(1);
    await fireEvent.click(getByLabelText('Close'));
    expect(onclose).toHaveBeenCalledTimes(2);
  });
});
