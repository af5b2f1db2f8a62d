/**
 * Contacts without links from the members dialog: "Message" starts a direct
 * conversation with the person's device addresses, named after them, and
 * opens it; "Add to conversation…" adds them to one of our other
 * conversations. Both are off, with the reason, for a person whose devices
 * shared no address, and never shown on ourselves.
 */
import { describe, expect, it } from 'vitest';
import { fireEvent, render, waitFor, within } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import type { ConversationDetail } from '@/lib/protocol/channel.ts';
import { addressesOf, addTargets, contactBlocked } from '@/lib/view/contact-actions.ts';
import { conversation } from './support/fixtures.ts';
import { fakeView } from './support/fake-background.ts';

const A1 = { accountId: 'acct-a1', welcomeMailboxId: 'wm-a1' };
const A2 = { accountId: 'acct-a2', welcomeMailboxId: 'wm-a2' };

function detail(): ConversationDetail {
  return {
    summary: conversation({ memberCount: 4 }),
    members: [
      { memberId: 'me', displayName: 'Ana', self: true, fingerprint: '1111 2222' },
      { memberId: 'a1', displayName: 'Alice', self: false, fingerprint: '3333 4444' },
      { memberId: 'a2', displayName: 'Alice', self: false, fingerprint: '5555 6666' },
      { memberId: 'x', displayName: 'Stranger', self: false, fingerprint: '7777 8888' },
    ],
    people: [
      { personKey: 'ana-key', displayName: 'Ana', self: true, verification: 'unverified', devices: [{ memberId: 'me', name: 'Chrome on Linux', address: { accountId: 'mine', welcomeMailboxId: 'mine' } }] },
      {
        personKey: 'alice-key',
        displayName: 'Alice',
        self: false,
        verification: 'unverified',
        devices: [
          { memberId: 'a1', name: 'Chrome on Windows', address: A1 },
          { memberId: 'a2', name: 'Firefox on Linux', address: A2 },
        ],
      },
      { personKey: 'leaf:x', displayName: 'Stranger', self: false, verification: 'unverified', devices: [{ memberId: 'x', name: 'Stranger' }] },
    ],
    safetyCode: '99999 88888',
    epoch: 3,
  };
}

const others = [conversation({ id: 'c2', name: 'Book club', lastActivity: 5 }), conversation({ id: 'c3', name: 'Old', status: 'left', lastActivity: 4 })];

async function open(conversations = [conversation({ memberCount: 4 }), ...others]) {
  const { bg, view } = fakeView({ conversations });
  bg.on('messages.page', () => ({ messages: [] }));
  bg.on('conversation.get', () => detail());
  const r = render(App, { view });
  await fireEvent.click(r.getAllByTestId('conversation-item').find((e) => e.textContent?.includes('Team'))!);
  await fireEvent.click(r.getByTestId('members-button'));
  await r.findByTestId('safety-code');
  const person = (name: string): HTMLElement => r.getAllByTestId('person').find((e) => e.dataset.name === name)!;
  return { bg, view, person, ...r };
}

describe('members dialog: contacts without links', () => {
  it("'Message' starts a direct conversation with every device of the person, named after them, and opens it", async () => {
    const { bg, person, findByTestId } = await open();
    bg.on('conversation.startDirect', () => ({ conversationId: 'c2' }));
    await fireEvent.click(within(person('Alice')).getByTestId('message-person'));
    await waitFor(() => expect(bg.callsOf('conversation.startDirect')).toEqual([{ devices: [A1, A2], name: 'Alice' }]));
    // The dialog closed and the new conversation is open.
    await waitFor(async () => expect((await findByTestId('conversation-name')).textContent).toBe('Book club'));
  });

  it("'Add to conversation…' adds the person's devices to the picked conversation (live ones other than this)", async () => {
    const { bg, person, getByTestId, findByTestId } = await open();
    bg.on('conversation.addDevices', () => null);
    await fireEvent.click(within(person('Alice')).getByTestId('add-person-to'));
    const select = getByTestId('add-to-select') as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(['Book club']);
    await fireEvent.click(getByTestId('add-to-confirm'));
    await waitFor(() => expect(bg.callsOf('conversation.addDevices')).toEqual([{ conversationId: 'c2', devices: [A1, A2] }]));
    expect((await findByTestId('contact-note')).textContent).toBe('Added Alice to Book club.');
  });

  it('is off with the reason for a person without an address, and absent on ourselves', async () => {
    const { person } = await open();
    const stranger = within(person('Stranger'));
    expect((stranger.getByTestId('message-person') as HTMLButtonElement).disabled).toBe(true);
    expect((stranger.getByTestId('add-person-to') as HTMLButtonElement).disabled).toBe(true);
    expect(stranger.getByTestId('contact-blocked').textContent).toContain('have not shared an address');
    expect(within(person('Ana')).queryByTestId('message-person')).toBeNull();
    expect((within(person('Alice')).getByTestId('message-person') as HTMLButtonElement).disabled).toBe(false);
  });

  it("offers no 'Add to conversation…' when there is no other live conversation", async () => {
    const { person } = await open([conversation({ memberCount: 4 })]);
    const add = within(person('Alice')).getByTestId('add-person-to') as HTMLButtonElement;
    expect(add.disabled).toBe(true);
    expect(add.title).toBe('You have no other conversation to add them to.');
  });

  it('uses each address once, skips devices without one, and lists only other live conversations', () => {
    expect(addressesOf({ devices: [{ memberId: 'a', name: 'x', address: A1 }, { memberId: 'b', name: 'y' }, { memberId: 'c', name: 'z', address: { ...A1 } }] })).toEqual([A1]);
    expect(contactBlocked({ displayName: 'Bo', devices: [{ memberId: 'b', name: 'y' }] })).toContain('Bo');
    expect(contactBlocked({ displayName: 'Al', devices: [{ memberId: 'a', name: 'x', address: A1 }] })).toBeNull();
    expect(addTargets([conversation(), ...others], 'c1').map((c) => c.id)).toEqual(['c2']);
  });
});
