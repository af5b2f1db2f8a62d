import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import InviteDialog from '@/components/InviteDialog.svelte';
import { fakeView } from './support/fake-background.ts';
import { ChannelError, ErrorCode } from '@/lib/protocol/channel.ts';
import { darkModulesPath } from '@/lib/view/qr-path.ts';
import { encode } from 'uqr';

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
    expect(bg.callsOf('invite.create')).toEqual([{ conversationId: 'c1', mode: 'one-time' }]);
    await fireEvent.click(getByTestId('invite-copy'));
    expect(copy).toHaveBeenCalledWith(LINK);
    await waitFor(() => expect(getByTestId('invite-dialog').textContent).toContain('Copied.'));
    expect(getByTestId('invite-dialog').textContent).toContain('must not be opened in a browser');
    expect(getByTestId('invite-copy-status').textContent).toContain('Works once; expires in 1 hour');
  });

  it('hides the expiry choice for a one-time code and offers exactly 1 hour, 1 day, 7 days, 30 days for an expiring one', async () => {
    const { getByTestId, queryByTestId } = setup();
    expect(queryByTestId('invite-expiry')).toBeNull();
    expect(getByTestId('invite-one-time-note').textContent).toContain('within 7 days');
    await fireEvent.click(getByTestId('invite-mode-expiring'));
    const select = getByTestId('invite-expiry') as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(['1 hour', '1 day', '7 days', '30 days']);
    expect(select.selectedOptions[0]!.textContent).toBe('1 day');
    expect(queryByTestId('invite-one-time-note')).toBeNull();
    await fireEvent.click(getByTestId('invite-mode-one-time'));
    expect(queryByTestId('invite-expiry')).toBeNull();
  });

  it('creates an expiring code for the chosen time', async () => {
    const { getByTestId, findByTestId, bg } = setup();
    await fireEvent.click(getByTestId('invite-mode-expiring'));
    const select = getByTestId('invite-expiry') as HTMLSelectElement;
    await fireEvent.change(select, { target: { value: '168' } });
    expect(select.selectedOptions[0]!.textContent).toBe('7 days');
    await fireEvent.click(getByTestId('invite-create'));
    await findByTestId('invite-link');
    expect(bg.callsOf('invite.create')).toEqual([{ conversationId: 'c1', mode: 'expiring', expiresInHours: 168 }]);
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

describe('Invite dialog: open invites can be copied again', () => {
  const DAY = 86_400_000;

  function withOpen(invites: { inviteId: string; mode: 'one-time' | 'expiring'; expiresAt: number }[]) {
    const { bg, view } = fakeView();
    bg.on('invite.list', () => ({ invites, revoked: false }));
    bg.on('invite.link', ({ inviteId }) => ({ link: `${LINK}-${inviteId}` }));
    const copy = vi.fn(async () => undefined);
    const r = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn(), copy });
    return { ...r, bg, copy };
  }

  it('lists each open invite with its kind, how long it has left, Copy and Revoke', async () => {
    const now = Date.now();
    const { findAllByTestId } = withOpen([
      { inviteId: 'inv_a', mode: 'expiring', expiresAt: now + 6 * DAY + 3_600_000 },
      { inviteId: 'inv_b', mode: 'one-time', expiresAt: now + 5 * 3_600_000 },
    ]);
    const rows = await findAllByTestId('open-invite');
    expect(rows.map((r) => r.querySelector('[data-testid="open-invite-kind"]')!.textContent)).toEqual(['Anyone with the code', 'One person']);
    expect(rows.map((r) => r.querySelector('[data-testid="open-invite-expiry"]')!.textContent)).toEqual(['expires in 6 days', 'expires in 5 hours']);
    for (const row of rows) {
      expect(row.querySelector('[data-testid="invite-copy-again"]')!.textContent).toBe('Copy');
      expect(row.querySelector('[data-testid="invite-revoke"]')!.textContent).toBe('Revoke');
    }
    expect(rows[0]!.querySelector('[data-testid="invite-copy-again"]')!.getAttribute('aria-label')).toBe(
      'Copy the expiring invite that expires in 6 days',
    );
  });

  it('Copy asks the background for that invite’s code, copies it and shows it', async () => {
    const { findAllByTestId, findByTestId, getByTestId, bg, copy } = withOpen([
      { inviteId: 'inv_a', mode: 'expiring', expiresAt: Date.now() + 7 * DAY },
      { inviteId: 'inv_b', mode: 'one-time', expiresAt: Date.now() + DAY },
    ]);
    await fireEvent.click((await findAllByTestId('invite-copy-again'))[1]!);
    expect(bg.callsOf('invite.link')).toEqual([{ conversationId: 'c1', inviteId: 'inv_b' }]);
    await waitFor(() => expect(copy).toHaveBeenCalledWith(`${LINK}-inv_b`));
    expect(((await findByTestId('invite-link')) as HTMLInputElement).value).toBe(`${LINK}-inv_b`);
    expect(getByTestId('invite-result').dataset.inviteId).toBe('inv_b');
    await waitFor(() => expect(getByTestId('invite-copy-status').textContent).toContain('Copied.'));
    expect(getByTestId('invite-copy-status').textContent).toContain('Works once; expires in 1 day');
  });

  it('when the clipboard refuses, the code stays shown and selected to copy by hand', async () => {
    const { bg, view } = fakeView();
    bg.on('invite.list', () => ({ invites: [{ inviteId: 'inv_a', mode: 'expiring' as const, expiresAt: Date.now() + DAY }], revoked: false }));
    bg.on('invite.link', () => ({ link: LINK }));
    const copy = vi.fn(async () => {
      throw new Error('denied');
    });
    const { findByTestId, getByTestId } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn(), copy });
    await fireEvent.click(await findByTestId('invite-copy-again'));
    await waitFor(() => expect(getByTestId('invite-copy-status').textContent).toContain('Could not copy'));
    expect((getByTestId('invite-link') as HTMLInputElement).value).toBe(LINK);
  });

  it('an invite that is no longer open says so and drops out of the list', async () => {
    const { bg, view } = fakeView();
    let open = [{ inviteId: 'inv_a', mode: 'one-time' as const, expiresAt: Date.now() + DAY }];
    bg.on('invite.list', () => ({ invites: open, revoked: false }));
    bg.on('invite.link', () => {
      open = [];
      throw new ChannelError(ErrorCode.NotFound, 'That invite is no longer open: it was used, revoked or has expired.');
    });
    const copy = vi.fn(async () => undefined);
    const { findByTestId, findByRole, queryByTestId } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn(), copy });
    await fireEvent.click(await findByTestId('invite-copy-again'));
    expect((await findByRole('alert')).textContent).toContain('no longer open');
    await waitFor(() => expect(queryByTestId('open-invite')).toBeNull());
    expect(copy).not.toHaveBeenCalled();
    expect(queryByTestId('invite-link')).toBeNull();
  });
});

describe('Invite dialog: QR code', () => {
  /** The dark cells an SVG path of unit rectangles (`Mx yhNv1h-Nz`) covers. */
  function cellsOf(d: string): Set<string> {
    const cells = new Set<string>();
    for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)) {
      const [x, y, w, back] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
      expect(back).toBe(w);
      for (let i = 0; i < w; i++) cells.add(`${x + i},${y}`);
    }
    // Nothing but those rectangles.
    expect(d.replace(/M\d+ \d+h\d+v1h-\d+z/g, '')).toBe('');
    return cells;
  }

  it('is offered, not shown, and draws exactly the matrix of the code (ECC M, 4-module quiet zone), dark on white', async () => {
    const { getByTestId, findByTestId, queryByTestId } = setup();
    await fireEvent.click(getByTestId('invite-create'));
    await findByTestId('invite-link');
    expect(queryByTestId('invite-qr')).toBeNull();
    const toggle = getByTestId('invite-qr-toggle');
    expect(toggle.textContent).toBe('Show QR code');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(toggle.textContent).toBe('Hide QR code');

    const svg = getByTestId('invite-qr');
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.getAttribute('aria-label')).toBe('QR code of the invite code');
    const expected = encode(LINK, { ecc: 'M', border: 4 });
    expect(svg.getAttribute('viewBox')).toBe(`0 0 ${expected.size} ${expected.size}`);
    const want = new Set<string>();
    expected.data.forEach((row, y) => row.forEach((dark, x) => dark && want.add(`${x},${y}`)));
    expect(want.size).toBeGreaterThan(100);
    const modules = getByTestId('invite-qr-modules');
    expect(cellsOf(modules.getAttribute('d')!)).toEqual(want);
    // The quiet zone is light: no dark module within 4 of the edge.
    for (const c of want) {
      const [x, y] = c.split(',').map(Number) as [number, number];
      expect(Math.min(x, y, expected.size - 1 - x, expected.size - 1 - y)).toBeGreaterThanOrEqual(4);
    }
    // Dark modules on a white square whatever the colour scheme.
    expect(modules.getAttribute('fill')).toBe('#000000');
    const bgRect = svg.querySelector('rect')!;
    expect([bgRect.getAttribute('fill'), bgRect.getAttribute('width'), bgRect.getAttribute('height')]).toEqual([
      '#ffffff',
      String(expected.size),
      String(expected.size),
    ]);
    await fireEvent.click(toggle);
    expect(queryByTestId('invite-qr')).toBeNull();
  });

  it('draws the code of the invite copied again, and a different code draws differently', async () => {
    const { bg, view } = fakeView();
    bg.on('invite.list', () => ({ invites: [{ inviteId: 'inv_a', mode: 'expiring' as const, expiresAt: Date.now() + 86_400_000 }], revoked: false }));
    const other = LINK.replace('key_abc', 'key_xyz');
    bg.on('invite.link', () => ({ link: other }));
    const { findByTestId, getByTestId } = render(InviteDialog, { view, conversationId: 'c1', conversationName: 'Team', onclose: vi.fn(), copy: vi.fn(async () => undefined) });
    await fireEvent.click(await findByTestId('invite-copy-again'));
    await fireEvent.click(await findByTestId('invite-qr-toggle'));
    const d = getByTestId('invite-qr-modules').getAttribute('d')!;
    expect(d).toBe(darkModulesPath(encode(other, { ecc: 'M', border: 4 }).data));
    expect(d).not.toBe(darkModulesPath(encode(LINK, { ecc: 'M', border: 4 }).data));
  });
});
