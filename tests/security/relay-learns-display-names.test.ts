// Attack: the relay (or whoever copies its database) reads people's display
// names. External commits are PublicMessages, stored until every member has
// acknowledged them; a leaf credential holding the display name would sit
// there in clear. Real devices (the background) over a real relay process, on
// both stores: the database and its files (SQLite WAL, Redis AOF) are read
// MID-scenario — after a join and messages, while Bob is offline so nothing
// he has not acknowledged is deleted — and searched for every display name,
// and for every account id next to delivery data. See tests/relay/privacy.test.ts
// for the same audit with a scripted client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, startRelayOn, type StoreRelay } from '../relay/support/stores.ts';
import { startDevice, waitUntil, type Device } from '../integration/support/device.ts';

const NAMES = ['Zebulon Quartermaine', 'Ysolde Pemberton', 'Xanthippe Oakenshield'];
/** Tables (Redis: kinds of keys) about accounts; everything else is delivery data and must not mention one. */
const ACCOUNT_TABLES = new Set(['accounts', 'credentials', 'sessions', 'session_expiries', 'key_packages', 'key_package_retire', 'quotas', 'ceremonies', 'ceremony_expiries', 'account_credentials', 'account_sessions']);

function encodings(s: string): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  return [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('base64').replace(/=+$/, '')), Buffer.from(b.toString('base64url'))];
}

describe.each(STORE_KINDS)('the relay learns no display names (%s store)', (kind) => {
  let relay: StoreRelay;
  let devices: Device[] = [];
  let accountIds: string[] = [];
  let raw: Buffer;
  let dump: Record<string, Record<string, unknown>[]>;
  let pendingMessages = 0;

  beforeAll(async () => {
    relay = await startRelayOn(kind);
    devices = await Promise.all(NAMES.map((n) => startDevice(relay.url, n)));
    const [zeb, ysolde, xan] = devices as [Device, Device, Device];
    accountIds = devices.map((d) => (d.app as unknown as { account: { accountId: string } }).account.accountId);
    const { conversationId: conv } = await zeb.app.handlers['conversation.create']({ name: 'Book club' });
    const { link } = await zeb.app.handlers['invite.create']({ conversationId: conv, mode: 'expiring', expiresInHours: 1 });
    await ysolde.app.handlers['invite.join']({ link });
    const knowsAll = async (d: Device, n: number): Promise<boolean> => {
      const members = (await d.app.handlers['conversation.get']({ conversationId: conv })).members;
      return members.length === n && members.every((m) => NAMES.includes(m.displayName));
    };
    await waitUntil(() => knowsAll(zeb, 2), 15_000, 'Zebulon knows Ysolde');
    await ysolde.app.handlers['message.send']({ conversationId: conv, text: 'hello' });
    await waitUntil(() => zeb.received(conv).includes('hello'), 15_000, 'first message');
    // Ysolde goes offline: whatever reaches the queue from now on waits at the relay for her.
    ysolde.app.stop();
    await xan.app.handlers['invite.join']({ link });
    // Ysolde is offline, so only Zebulon and Xanthippe exchange names now.
    await waitUntil(() => knowsAll(zeb, 3), 15_000, 'Zebulon learns the newcomer\'s name');
    await zeb.app.handlers['message.send']({ conversationId: conv, text: 'welcome' });
    await waitUntil(() => xan.received(conv).includes('welcome'), 15_000, 'message to the newcomer');
    // Mid-scenario: the join commit, the profiles and the texts are still stored for Ysolde.
    dump = await relay.dump();
    raw = relay.rawFiles();
    pendingMessages = dump.messages?.length ?? 0;
  });

  afterAll(async () => {
    for (const d of devices) d.app.stop();
    await relay?.stop();
  });

  it('holds the scenario while it is read: a stored external commit and unacknowledged messages', () => {
    // The audit means something only if the relay still has what the attacker is after.
    expect(pendingMessages).toBeGreaterThanOrEqual(2);
    expect(raw.indexOf(Buffer.from(accountIds[0]!))).toBeGreaterThanOrEqual(0);
  });

  it('finds no display name in the database, its WAL or its AOF, in any encoding', () => {
    const text = JSON.stringify(dump);
    for (const name of NAMES) {
      for (const e of encodings(name)) {
        expect(raw.indexOf(e), `${name} (${e.toString().slice(0, 12)}…) in the store's files`).toBe(-1);
        expect(text.includes(e.toString()), `${name} in the dump`).toBe(false);
      }
      // Part of a name is enough to recognise someone.
      expect(raw.indexOf(Buffer.from(name.split(' ')[1]!)), `${name}'s surname`).toBe(-1);
    }
  });

  it('puts no account id next to delivery data', () => {
    for (const [table, rows] of Object.entries(dump)) {
      if (ACCOUNT_TABLES.has(table)) continue;
      const text = JSON.stringify(rows);
      for (const id of accountIds) {
        expect(text.includes(id), `${table} mentions an account`).toBe(false);
        expect(text.includes(Buffer.from(id, 'base64url').toString('hex')), `${table} holds an account id as bytes`).toBe(false);
      }
    }
  });
});
