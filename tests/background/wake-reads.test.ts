// A wake reads the session's records together: the account, the token wallet's pin, our identity, the people we
// verified and the conversations' metadata do not depend on each other, so none of them waits for another to be read and
// unsealed (the account is needed to open the session, not to read what it will hold).
// Every unsealing is held until the wake has nothing else to do; then the held ones are let go together, as one
// round. A wake that read them one after the other needs a round for each. The wallet's tokens (each sealed on its
// own, up to 70) are left for the first send.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenStore } from '../../lib/background/account.ts';
import { BackgroundApp } from '../../lib/background/background-app.ts';
import { ChatStore } from '../../lib/background/chat-store.ts';
import { openDatabase } from '../../lib/background/db.ts';
import { OwnIdentity } from '../../lib/background/identity/own-identity.ts';
import { VerifiedPeople } from '../../lib/background/identity/verified-people.ts';
import type { StoredToken } from '../../lib/background/tokens.ts';
import { Vault } from '../../lib/background/vault.ts';
import { seedAccount } from '../support/seeded-profile.ts';

const CONVERSATIONS = 50;

async function seed(name: string): Promise<void> {
  const { db, vault } = await seedAccount(name, 'Wendy', 'cred');
  const tokens = tokenStore(db, vault);
  await tokens.add(new Map([['tok1', { token: { keyId: 'k' } as unknown as StoredToken['token'], acceptUntil: 2 ** 40 }]]));
  await tokens.savePin!({ keyId: 'k', publicKey: 'P'.repeat(43), acceptUntil: 2 ** 40 });
  await OwnIdentity.ensure(db, vault, 'Laptop');
  await (await VerifiedPeople.load(db, vault)).verify('person1', 'I'.repeat(43));
  const store = new ChatStore(db, vault);
  for (let i = 0; i < CONVERSATIONS; i++) {
    const id = `conv${i}`;
    await store.apply({
      metas: [{ v: 1, id, name: `Conversation ${i}`, status: 'active', queue: 'Q'.repeat(43), unread: 0, lastActivity: i, nextSeq: 0, memberCount: 1, epoch: 0, invites: [] }],
    });
  }
  db.close();
}

/** Let fake-indexeddb and WebCrypto run until nothing new is asked for in several turns of the event loop. */
async function settle(count: () => number): Promise<void> {
  let seen = -1;
  let quiet = 0;
  while (quiet < 20) {
    await new Promise((r) => setTimeout(r, 0));
    if (count() === seen) quiet++;
    else [seen, quiet] = [count(), 0];
  }
}

afterEach(() => vi.restoreAllMocks());

describe('waking reads the session at once', () => {
  it("unseals the account, the wallet's pin, our identity, the verified people and every conversation's metadata in one round, and no token", async () => {
    const name = `wake-reads-${process.pid}`;
    await seed(name);
    const db = await openDatabase(name);

    const held: { label: string; go: () => void }[] = [];
    const open = Vault.prototype.open;
    vi.spyOn(Vault.prototype, 'open').mockImplementation(function (this: Vault, store: string, id: string, record: unknown) {
      return new Promise<void>((go) => held.push({ label: `${store}/${id}`, go })).then(() => open.call(this, store, id, record));
    });
    let started: BackgroundApp | undefined;
    let failed: unknown;
    const starting = BackgroundApp.start({ db, version: 'test' }).then(
      (a) => void (started = a),
      (err: unknown) => void (failed = err),
    );
    const rounds: string[][] = [];
    while (started === undefined && failed === undefined) {
      await settle(() => held.length);
      if (held.length === 0) break;
      const round = held.splice(0);
      rounds.push(round.map((h) => h.label));
      for (const h of round) h.go();
    }
    await starting;
    expect(failed).toBeUndefined();
    const app = started!;
    expect(app.snapshot.account).toMatchObject({ state: 'ready', displayName: 'Wendy' });
    expect(app.snapshot.conversations).toHaveLength(CONVERSATIONS);
    console.info(`unsealing rounds of a wake: ${rounds.length} (${rounds.map((r) => r.length).join(', ')} records)`);

    const roundOf = (label: string): number => rounds.findIndex((r) => r.includes(label));
    // The wallet's tokens are read when a send first needs one (tokens.ts), not at a wake.
    expect(roundOf('tokens/tok1')).toBe(-1);
    const session = ['secrets/account', 'secrets/token-key-pin', 'secrets/device-key', 'secrets/identity', 'secrets/verified', 'conversations/conv0', `conversations/conv${CONVERSATIONS - 1}`];
    for (const label of session) expect(roundOf(label), label).toBeGreaterThanOrEqual(0);
    expect(new Set(session.map(roundOf)).size).toBe(1);
    app.stop();
    db.close();
  });
});
