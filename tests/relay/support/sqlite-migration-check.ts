/**
 * Run under Deno by store-contract.test.ts: builds a relay.db in the layout
 * before the pending list (one `deliveries` row per mailbox and message),
 * opens it with today's SqliteStore, and prints what the store then serves as
 * one JSON line, for the test to compare.
 */
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../../relay/sqlite-store.ts';

const LEGACY = `
CREATE TABLE mailboxes (mailbox_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE registrations (queue_hash TEXT NOT NULL, mailbox_id TEXT NOT NULL, PRIMARY KEY (queue_hash, mailbox_id)) WITHOUT ROWID;
CREATE INDEX registrations_mailbox ON registrations (mailbox_id);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, queue_hash TEXT, payload BLOB NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX messages_queue ON messages (queue_hash) WHERE queue_hash IS NOT NULL;
CREATE INDEX messages_expiry ON messages (expires_at);
CREATE TABLE deliveries (mailbox_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (mailbox_id, seq)) WITHOUT ROWID;
CREATE INDEX deliveries_seq ON deliveries (seq);
`;

const dir = (globalThis as unknown as { Deno: { args: string[] } }).Deno.args[0];
if (dir === undefined) throw new Error('usage: sqlite-migration-check.ts <empty dir>');
const path = `${dir}/relay.db`;
const exp = Math.floor(Date.now() / 1000) + 3600;
const legacy = new DatabaseSync(path);
legacy.exec(LEGACY);
for (const mb of ['mbA', 'mbB', 'mbC']) legacy.prepare('INSERT INTO mailboxes VALUES (?, ?)').run(mb, 'h');
// mbA and mbB registered to q1; mbC was unregistered from q1 but still has m1 to read.
for (const mb of ['mbA', 'mbB']) legacy.prepare('INSERT INTO registrations VALUES (?, ?)').run('q1', mb);
const msg = legacy.prepare('INSERT INTO messages (seq, message_id, queue_hash, payload, expires_at) VALUES (?, ?, ?, ?, ?)');
msg.run(1, 'm1', 'q1', new Uint8Array([1]), exp);
msg.run(2, 'm2', 'q1', new Uint8Array([2]), exp);
msg.run(3, 'w1', null, new Uint8Array([3]), exp);
const del = legacy.prepare('INSERT INTO deliveries VALUES (?, ?)');
for (const [mb, seq] of [['mbA', 1], ['mbB', 1], ['mbC', 1], ['mbB', 2], ['mbB', 3]] as const) del.run(mb, seq);
legacy.close();

const store = new SqliteStore(path);
const now = Math.floor(Date.now() / 1000);
const fetched = async (mb: string): Promise<string[]> => (await store.fetchMailbox(mb, 100, now)).map((m) => `${m.messageId}:${m.kind}`);
const out: Record<string, unknown> = {};
out.before = { mbA: await fetched('mbA'), mbB: await fetched('mbB'), mbC: await fetched('mbC') };
out.acks = [await store.ack('mbA', ['m1', 'm2']), await store.ack('mbB', ['m1', 'm2', 'w1']), await store.ack('mbC', ['m1'])];
out.after = { mbA: await fetched('mbA'), mbB: await fetched('mbB'), mbC: await fetched('mbC') };
await store.close();
const probe = new DatabaseSync(path);
out.tables = probe.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name);
out.messagesLeft = Number(probe.prepare('SELECT COUNT(*) AS n FROM messages').get()?.n);
out.registrations = probe.prepare('SELECT queue_hash, mailbox_id, active FROM registrations ORDER BY mailbox_id').all();
probe.close();
// Opening the migrated file again changes nothing.
const again = new SqliteStore(path);
await again.close();
console.log(JSON.stringify(out));
