// Attack: Mallory's device goes quiet while she is still a member, so her
// mailbox keeps collecting the group's ciphertext; she is removed, and later
// fetches everything that waited (up to the 30-day TTL), or the relay just
// keeps it all that time. Members know each other's mailbox ids (announced
// inside the group), so Alice, who removes her, unregisters her mailbox, and
// the relay drops what waited there: its database holds nothing addressed to
// Mallory's mailbox any more.
import { describe, expect, it } from 'vitest';
import { dumpRelayDatabase } from '../support/relay-process.ts';
import { waitUntil } from '../integration/support/device.ts';
import type { Scenario } from './support/removed-member-scenario.ts';
import { withScenario } from './support/with-scenario.ts';

/** Tables of the dump that mention the mailbox id, apart from the mailbox itself. */
async function mentions(s: Scenario, mailboxId: string): Promise<string[]> {
  const db = await dumpRelayDatabase(s.relay.dataDir);
  return Object.entries(db)
    .filter(([table, rows]) => table !== 'mailboxes' && JSON.stringify(rows).includes(mailboxId))
    .map(([table]) => table);
}

describe('a removed member’s mailbox keeps messages', () => {
  const s = withScenario({ malloryOffline: true });

  it('after the removal the relay keeps no registration and no message for her mailbox', async () => {
    const [own] = s.loot.mailboxes;
    expect(own).toBeDefined();
    // While she was a member, what Alice said waited for her mailbox.
    expect(await mentions(s, own!.mailboxId)).toEqual(expect.arrayContaining(['registrations', 'messages']));
    await s.removeMallory();
    await s.aliceSays('after Mallory left');
    let left: string[] = [];
    await waitUntil(async () => (left = await mentions(s, own!.mailboxId)).length === 0, 15_000, 'nothing addressed to Mallory').catch(() => undefined);
    expect(left).toEqual([]);
  });
});
