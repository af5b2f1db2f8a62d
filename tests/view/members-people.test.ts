/**
 * The members dialog lists people: a person's devices together (name and
 * when added), a verified mark or a "changed" warning, the safety number as
 * digits and QR code with "Mark as verified", and Remove for a person
 * removes every one of their devices.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationDetail, PersonView } from '@/lib/protocol/channel.ts';
import { conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const NUMBER = '12345 67890 13579 24680 11111 22222 33333 44444 55555 66666 77777 88888';

function detail(alice: Partial<PersonView> = {}): ConversationDetail {
  return {
    summary: conversation({ memberCount: 4 }),
    members: [
      { memberId: 'me', displayName: 'Ana', self: true, fingerprint: '1111 2222', admin: true },
      { memberId: 'a1', displayName: 'Alice', self: false, fingerprint: '3333 4444' },
      { memberId: 'a2', displayName: 'Alice', self: false, fingerprint: '5555 6666' },
      { memberId: 'x', displayName: 'Stranger', self: false, fingerprint: '7777 8888' },
    ],
    people: [
      { personKey: 'ana-key', displayName: 'Ana', self: true, verification: 'unverified', devices: [{ memberId: 'me', name: 'Chrome on Linux', addedAt: Date.UTC(2026, 0, 2) }] },
      {
        personKey: 'alice-key',
        displayName: 'Alice',
        self: false,
        verification: 'unverified',
        safetyNumber: NUMBER,
        devices: [
          { memberId: 'a1', name: 'Chrome on Windows', addedAt: Date.UTC(2026, 1, 3) },
          { memberId: 'a2', name: 'Firefox on Linux', addedAt: Date.UTC(2026, 2, 4) },
        ],
        ...alice,
      },
      { personKey: 'leaf:x', displayName: 'Stranger', self: false, verification: 'unverified', devices: [{ memberId: 'x', name: 'Stranger' }] },
    ],
    safetyCode: '99999 88888',
    epoch: 3,
    roles: { admin: true, canRemove: true, canEnd: true, canInvite: true, canChangeRoles: true, invitePolicy: 'everyone', adminCount: 1 },
  };
}

async function open(d: () => ConversationDetail) {
  const { bg, view } = fakeView({ conversations: [conversation({ memberCount: 4 })] });
  bg.on('messages.page', () => ({ messages: [] }));
  bg.on('conversation.get', d);
  const r = render(App, { view });
  await fireEvent.click(r.getByTestId('conversation-item'));
  await fireEvent.click(r.getByTestId('members-button'));
  await r.findByTestId('safety-code');
  return { bg, ...r };
}

describe('members dialog: people', () => {
  it("lists a person's devices together, each with its name and when it was added", async () => {
    const { getAllByTestId } = await open(() => detail());
    const people = getAllByTestId('person');
    expect(people.map((p) => p.dataset.name)).toEqual(['Ana', 'Alice', 'Stranger']);
    const alice = people[1]!;
    expect(within(alice).getAllByTestId('device-name').map((d) => d.textContent)).toEqual(['Chrome on Windows', 'Firefox on Linux']);
    expect(within(alice).getAllByTestId('device-added')).toHaveLength(2);
    expect(within(people[2]!).queryByTestId('device-added')).toBeNull();
    // Only people with an identity key other than ours have a safety number.
    expect(within(people[0]!).queryByTestId('safety-number-button')).toBeNull();
    expect(within(people[2]!).queryByTestId('safety-number-button')).toBeNull();
  });

  it('shows the safety number as digits and QR code, and marks the person verified', async () => {
    let d = detail();
    const { bg, getAllByTestId, findByTestId } = await open(() => d);
    bg.on('person.verify', () => {
      d = detail({ verification: 'verified' });
      return null;
    });
    const alice = getAllByTestId('person')[1]!;
    await fireEvent.click(within(alice).getByTestId('safety-number-button'));
    expect((await findByTestId('safety-number-digits')).textContent).toBe(NUMBER);
    expect(within(alice).getByTestId('safety-number-qr').querySelector('path')!.getAttribute('d')).not.toBe('');
    await fireEvent.click(within(alice).getByTestId('verify-person'));
    await waitFor(() => expect(bg.callsOf('person.verify')).toEqual([{ conversationId: 'c1', personKey: 'alice-key' }]));
    await waitFor(() => expect(getAllByTestId('person')[1]!.dataset.verification).toBe('verified'));
    expect(within(getAllByTestId('person')[1]!).getByTestId('verified-mark')).toBeTruthy();
  });

  it('warns when a verified person changed', async () => {
    const { getAllByTestId } = await open(() => detail({ verification: 'changed' }));
    const alice = getAllByTestId('person')[1]!;
    expect(within(alice).getByTestId('changed-mark').textContent).toBe('Changed');
    expect(within(alice).getByTestId('changed-warning').textContent).toContain('changed since you verified them');
  });

  it('removes every device of a person, after saying so', async () => {
    const { bg, getAllByTestId, findByTestId } = await open(() => detail());
    bg.on('conversation.removeMember', () => null);
    await fireEvent.click(within(getAllByTestId('person')[1]!).getByTestId('remove-member'));
    expect((await findByTestId('confirm-dialog')).textContent).toContain('on any of their 2 devices');
    await fireEvent.click(await findByTestId('confirm'));
    await waitFor(() =>
      expect(bg.callsOf('conversation.removeMember')).toEqual([
        { conversationId: 'c1', memberId: 'a1' },
        { conversationId: 'c1', memberId: 'a2' },
      ]),
    );
  });
});
