/**
 * A browser profile with history, made without a relay: an account, sealed
 * tokens, conversations with their MLS group states (epoch secrets), a
 * pending commit, messages and an outbox entry, all sealed under the device
 * key the way the background writes them. Plus what an attacker does with a
 * copy of it: dump every object store, and try every key found in the copy
 * on every sealed record.
 */
import { createHmac } from 'node:crypto';
import { openDB } from 'idb';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createGroup, generateIdentity, type GroupState } from '../../lib/mls/group.ts';
import { saveAccount, tokenStore } from '../../lib/background/account.ts';
import { BackgroundApp, type BackgroundDeps } from '../../lib/background/background-app.ts';
import { ChatStore } from '../../lib/background/chat-store.ts';
import { openDatabase, saveSetting, vaultKeySlot, type Database } from '../../lib/background/db.ts';
import { Vault } from '../../lib/background/vault.ts';
import { OwnIdentity } from '../../lib/background/identity/own-identity.ts';

export const CANARY = 'profile-copy canary';
export const CREDENTIAL_ID = 'Y3JlZC0x';
/** Cheap Argon2id for tests (the real parameters are measured in tests/background/passphrase.test.ts). */
export const TEST_KDF = { m: 64, t: 1, p: 1 };

let groupState: Promise<GroupState> | undefined;
function oneGroupState(): Promise<GroupState> {
  const suite = getCipherSuite(1);
  groupState ??= generateIdentity(suite, new TextEncoder().encode('Pat')).then((id) => createGroup(suite, id));
  return groupState;
}

/**
 * An account sealed in IndexedDB `name` (lock off, relay unreachable at 127.0.0.1:9), as the background writes it at
 * sign-up: the database and its vault, for a test to add what it needs.
 */
export async function seedAccount(name: string, displayName: string, credentialId = CREDENTIAL_ID): Promise<{ db: Database; vault: Vault }> {
  const db = await openDatabase(name);
  await saveSetting(db, 'relayUrl', 'http://127.0.0.1:9');
  const vault = await Vault.open(vaultKeySlot(db));
  await saveAccount(db, vault, {
    v: 1,
    relayUrl: 'http://127.0.0.1:9',
    accountId: 'acc',
    displayName,
    credentialId,
    session: { token: 't'.repeat(43), expiresAt: 2 ** 40 },
    mailbox: { mailboxId: 'A'.repeat(22), secret: 'B'.repeat(43) },
  });
  return { db, vault };
}

/** Seed a profile in IndexedDB `name` (lock off); returns how many sealed records it holds. */
export async function seedProfile(name: string, conversations = 2, messagesEach = 3): Promise<number> {
  const { db, vault } = await seedAccount(name, 'Pat');
  await tokenStore(db, vault).add(
    new Map([
      ['tok1', { token: { keyId: 'k', input: 'i1', output: 'o1' }, acceptUntil: 2 ** 40 }],
      ['tok2', { token: { keyId: 'k', input: 'i2', output: 'o2' }, acceptUntil: 2 ** 40 }],
    ] as never),
  );
  // The person's identity and device keys, as every account has them from its first unlock on (docs/identity.md).
  await OwnIdentity.ensure(db, vault);
  const state = await oneGroupState();
  const store = new ChatStore(db, vault);
  for (let c = 0; c < conversations; c++) {
    const id = `conv${c}`;
    await store.apply({
      metas: [{ v: 1, id, name: `${CANARY} conversation ${c}`, status: 'active', queue: 'Q'.repeat(43), unread: 0, lastActivity: c, nextSeq: messagesEach, memberCount: 1, epoch: 0, invites: [] }],
      groups: [{ id, state }],
      pending: c === 0 ? [{ id, value: { hash: 'H', baseEpoch: 0, state } }] : [],
      messages: [...Array(messagesEach).keys()].map((seq) => ({
        id: `m${c}-${seq}`,
        conversationId: id,
        seq,
        kind: 'text' as const,
        text: `${CANARY} message ${c}/${seq}`,
        sender: { memberId: 'x', displayName: 'Pat', self: true },
        sentAt: 1,
        status: 'sent' as const,
      })),
      outboxPut: c === 0 ? [{ messageId: 'out1', conversationId: id, createdAt: 1, payload: new TextEncoder().encode(CANARY), queue: new Uint8Array(32) }] : [],
    });
  }
  db.close();
  return (await dumpProfile(name)).sealed.length;
}

export function startApp(db: Database, extra: Partial<BackgroundDeps> = {}): Promise<BackgroundApp> {
  return BackgroundApp.start({ db, version: 'test', passphraseKdf: TEST_KDF, ...extra });
}

export async function openProfile(name: string, extra: Partial<BackgroundDeps> = {}): Promise<{ db: Database; app: BackgroundApp }> {
  const db = await openDatabase(name);
  return { db, app: await startApp(db, extra) };
}

/** A soft authenticator's PRF: HMAC of the salt under a secret only "the passkey" knows. */
export function prfOf(salt: string, secret = 'passkey-internal-prf-secret'): string {
  return Buffer.from(createHmac('sha256', secret).update(Buffer.from(salt, 'base64url')).digest()).toString('base64url');
}

export interface SealedFound {
  store: string;
  slot: string;
  iv: Uint8Array;
  ct: Uint8Array;
}

export interface ProfileCopy {
  /** Every row of every store, as an attacker copying the files would have it. */
  stores: Record<string, { key: IDBValidKey; value: unknown }[]>;
  sealed: SealedFound[];
  /** Every CryptoKey anywhere in the copy. */
  keys: CryptoKey[];
}

function walk(v: unknown, visit: (x: unknown) => void, depth = 0): void {
  visit(v);
  if (depth > 6 || typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof CryptoKey) return;
  for (const x of Object.values(v)) walk(x, visit, depth + 1);
}

/** Copy the whole profile: every object store, whatever it is called. */
export async function dumpProfile(name: string): Promise<ProfileCopy> {
  const db = await openDB(name);
  const stores: ProfileCopy['stores'] = {};
  const sealed: SealedFound[] = [];
  const keys: CryptoKey[] = [];
  for (const storeName of db.objectStoreNames) {
    const tx = db.transaction(storeName);
    const [ks, vs] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
    stores[storeName] = ks.map((key, i) => ({ key, value: vs[i] }));
    ks.forEach((key, i) => {
      const value = vs[i] as Record<string, unknown>;
      // The slot is public knowledge (the code is): the row key, or conversation/seq for messages.
      const slot = storeName === 'messages' ? `${String(value.conversationId)}/${String(value.seq)}` : String(key);
      walk(value, (x) => {
        if (x instanceof CryptoKey) keys.push(x);
        const r = x as { iv?: unknown; ct?: unknown } | null;
        if (typeof r === 'object' && r !== null && r.iv instanceof Uint8Array && r.ct instanceof Uint8Array) sealed.push({ store: storeName, slot, iv: r.iv, ct: r.ct });
      });
    });
  }
  db.close();
  return { stores, sealed: sealed.filter((s) => s.store !== 'settings'), keys };
}

const aad = (store: string, id: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(`microchat/vault/v1\u0000${store}\u0000${id}`) as Uint8Array<ArrayBuffer>;

/** How many sealed records of the copy each candidate key opens. */
export async function recordsOpenedBy(copy: ProfileCopy, candidates: CryptoKey[]): Promise<number> {
  let opened = 0;
  for (const r of copy.sealed) {
    for (const key of candidates) {
      try {
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: r.iv as Uint8Array<ArrayBuffer>, additionalData: aad(r.store, r.slot) }, key, r.ct as Uint8Array<ArrayBuffer>);
        opened++;
        break;
      } catch {
        // not this key
      }
    }
  }
  return opened;
}
