/**
 * The embedded store: one SQLite file (`relay.db`) in the data directory,
 * through `node:sqlite` (Deno implements it). WAL mode with synchronous=NORMAL
 * survives a killed process without losing a committed transaction, and every
 * acknowledged operation is committed before it is acknowledged.
 *
 * Deletion really deletes: secure_delete zeroes freed content in the main
 * file, and scrub() truncates the WAL after deletions so old page images with
 * ciphertext do not linger there either.
 *
 * Who still has to read a message is a list on the message row itself
 * (`pending`, ",mb1,mb2,"), not a row per recipient: a fan-out to 50 is one
 * insert instead of 100 B-tree inserts, and the acknowledgements of one batch
 * become one update (or the delete) per message. A mailbox finds its messages
 * through the queues it is registered to (`registrations`) and, for
 * Welcomes, through `recipient`. Unregistering drops the registration and
 * whatever of that queue still waited for the mailbox (a removed member keeps
 * nothing); only rows migrated from the old layout can be inactive. Schemas from before this layout (a `deliveries` table)
 * are migrated on open.
 */

import { DatabaseSync, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { setImmediate } from 'node:timers';
import { inWriteTransaction } from './sqlite-file.ts';
import type {
  Ceremony,
  KeyPackageCounts,
  NewMessage,
  RelayStore,
  Spend,
  SpendResult,
  StoredCredential,
  StoredMessage,
  StoredInvite,
  StorageCaps,
  SweepResult,
  TokenKey,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ceremonies (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, challenge TEXT NOT NULL, account_id TEXT, expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credentials (
  credential_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, public_key BLOB NOT NULL,
  counter INTEGER NOT NULL, transports TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS key_packages (
  id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, last_resort INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS key_packages_account ON key_packages (account_id, last_resort, id);
CREATE TABLE IF NOT EXISTS key_package_retire (
  account_id TEXT PRIMARY KEY, hash BLOB NOT NULL, retired INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quotas (bucket TEXT PRIMARY KEY, used INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS token_keys (
  key_id TEXT PRIMARY KEY, secret_key BLOB NOT NULL, public_key BLOB NOT NULL,
  issue_until INTEGER NOT NULL, accept_until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spent (key_id TEXT NOT NULL, input_hash TEXT NOT NULL, PRIMARY KEY (key_id, input_hash)) WITHOUT ROWID;
-- idle_until: a coarse expiry pushed forward whenever the mailbox is read; past it the sweep drops the mailbox.
CREATE TABLE IF NOT EXISTS mailboxes (mailbox_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, idle_until INTEGER) WITHOUT ROWID;
-- active = 0: only from the migration of the old layout (a mailbox that still had messages of a queue it had left); swept once read.
CREATE TABLE IF NOT EXISTS registrations (
  queue_hash TEXT NOT NULL, mailbox_id TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (queue_hash, mailbox_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registrations_mailbox ON registrations (mailbox_id);
-- A queue's capability, as a hash; prev_cap_hash: the one before the last rotation (answered 'stale').
CREATE TABLE IF NOT EXISTS queues (queue_hash TEXT PRIMARY KEY, cap_hash TEXT NOT NULL, prev_cap_hash TEXT) WITHOUT ROWID;
-- pending before payload: checking it never reads a large payload's overflow pages.
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, queue_hash TEXT, recipient TEXT,
  pending TEXT NOT NULL, expires_at INTEGER NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS invites (
  invite_hash TEXT PRIMARY KEY, write_key_hash TEXT NOT NULL, ciphertext BLOB NOT NULL,
  expires_at INTEGER NOT NULL, one_time INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Indexes on columns that a migrated schema only has after migrate(). */
const INDEXES = `
CREATE INDEX IF NOT EXISTS messages_queue ON messages (queue_hash) WHERE queue_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_recipient ON messages (recipient) WHERE recipient IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_expiry ON messages (expires_at);
CREATE INDEX IF NOT EXISTS mailboxes_idle ON mailboxes (idle_until) WHERE idle_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS ceremonies_expiry ON ceremonies (expires_at);
CREATE INDEX IF NOT EXISTS credentials_account ON credentials (account_id);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account_id);
`;

/**
 * What is pending per scope ('' = everything, 'q:<queue hash>', 'm:<mailbox>'
 * for Welcomes), kept by triggers so every way a message goes (acknowledged,
 * expired, its queue or mailbox deleted) is counted without each path
 * remembering to.
 */
const USAGE = `
CREATE TABLE usage (scope TEXT PRIMARY KEY, messages INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER usage_insert AFTER INSERT ON messages BEGIN
  INSERT INTO usage (scope, messages, bytes) VALUES ('', 1, length(NEW.payload))
    ON CONFLICT (scope) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes;
  INSERT INTO usage (scope, messages, bytes) VALUES (coalesce('q:' || NEW.queue_hash, 'm:' || NEW.recipient), 1, length(NEW.payload))
    ON CONFLICT (scope) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER usage_delete AFTER DELETE ON messages BEGIN
  UPDATE usage SET messages = messages - 1, bytes = bytes - length(OLD.payload)
    WHERE scope IN ('', coalesce('q:' || OLD.queue_hash, 'm:' || OLD.recipient));
  DELETE FROM usage WHERE scope = coalesce('q:' || OLD.queue_hash, 'm:' || OLD.recipient) AND messages <= 0;
END;
INSERT INTO usage (scope, messages, bytes) SELECT '', COUNT(*), coalesce(SUM(length(payload)), 0) FROM messages;
INSERT INTO usage (scope, messages, bytes)
  SELECT coalesce('q:' || queue_hash, 'm:' || recipient), COUNT(*), SUM(length(payload)) FROM messages GROUP BY 1;
`;

/** Idle expiry given to mailboxes from before it existed: the default message TTL from when they are first opened. */
const LEGACY_IDLE_SECONDS = 30 * 24 * 3600;

/** Adds what later versions keep (usage counters, mailbox idle expiry) to an older file; once, atomically. */
function upgrade(db: DatabaseSync): void {
  const hasUsage = db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'usage'");
  const hasIdle = db.prepare("SELECT 1 AS x FROM pragma_table_info('mailboxes') WHERE name = 'idle_until'");
  if (hasUsage.get() !== undefined && hasIdle.get() !== undefined) return;
  inWriteTransaction(db, () => {
    if (hasUsage.get() === undefined) db.exec(USAGE);
    if (hasIdle.get() === undefined) {
      db.exec('ALTER TABLE mailboxes ADD COLUMN idle_until INTEGER');
      db.prepare('UPDATE mailboxes SET idle_until = ?').run(Math.floor(Date.now() / 1000) + LEGACY_IDLE_SECONDS);
    }
  });
}

/**
 * From the layout with one `deliveries` row per (mailbox, message) to the
 * pending list on the message. Mailboxes that still had messages of a queue
 * they were no longer registered to keep an inactive registration, so they
 * can still read them. Nothing else changes; runs once, atomically.
 */
function migrate(db: DatabaseSync): void {
  const oldLayout = db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'");
  if (oldLayout.get() === undefined) return;
  inWriteTransaction(db, () => {
    // Another store on the same file may have migrated while this one waited for the lock.
    if (oldLayout.get() !== undefined) {
      db.exec(`
        ALTER TABLE messages ADD COLUMN pending TEXT NOT NULL DEFAULT '';
        ALTER TABLE messages ADD COLUMN recipient TEXT;
        ALTER TABLE registrations ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
        UPDATE messages SET pending = coalesce(',' || (SELECT group_concat(mailbox_id, ',') FROM deliveries d WHERE d.seq = messages.seq) || ',', '');
        UPDATE messages SET recipient = (SELECT mailbox_id FROM deliveries d WHERE d.seq = messages.seq LIMIT 1) WHERE queue_hash IS NULL;
        DELETE FROM messages WHERE pending = '';
        INSERT OR IGNORE INTO registrations (queue_hash, mailbox_id, active)
          SELECT DISTINCT m.queue_hash, d.mailbox_id, 0 FROM deliveries d JOIN messages m ON m.seq = d.seq WHERE m.queue_hash IS NOT NULL;
        DROP TABLE deliveries;
      `);
    }
  });
}

/** One mailbox leaving one message's pending list; `done` once it was on it and is off. */
interface Removal {
  done: boolean;
}

/** The readers of one message leaving its pending list in this batch; `seq` is where it was found. */
interface Leaving {
  seq: number;
  readers: Map<string, Removal>;
}

/**
 * The messages mailbox ?1 (pending-list entry ?2) still has to read: those of
 * the queues it is (or was) registered to, and its Welcomes.
 */
const MAILBOX_MESSAGES = `(queue_hash IN (SELECT queue_hash FROM registrations WHERE mailbox_id = ?1) OR recipient = ?1)
  AND instr(pending, ?2) > 0`;

/** The pending-list entry of a mailbox (ids are base64url, never a comma). */
const entry = (mailboxId: string): string => `,${mailboxId},`;

const str = (v: SQLOutputValue | undefined): string => (typeof v === 'string' ? v : String(v));
const num = (v: SQLOutputValue | undefined): number => Number(v);
const blob = (v: SQLOutputValue | undefined): Uint8Array =>
  v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0);

export const DB_FILE = 'relay.db';

/**
 * How long acknowledgements wait to share one transaction. A message's
 * readers acknowledge it at about the same time, so gathering them turns one
 * row rewrite per acknowledgement frame into about one per message (often
 * just the delete); the answer to an ACK comes this much later, nothing else
 * changes.
 */
const ACK_BATCH_MS = 25;

/** memoryOnly: fn writes nothing to the database (it only reads, and records removals in memory). */
type QueuedOp = { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void; memoryOnly?: boolean };

/** How many recently posted messages `seqOf` remembers (about 100 bytes each); beyond it the oldest go. */
const SEQ_CACHE_MAX = 50_000;

export class SqliteStore implements RelayStore {
  private readonly db: DatabaseSync;
  private readonly s: Record<string, StatementSync>;
  private dirty = false;
  private pending: QueuedOp[] = [];
  private flushScheduled = false;
  /** Acknowledgements gathered for the next batch (see ACK_BATCH_MS). */
  private acks: QueuedOp[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Per message, the mailboxes that read it (or went away) in the current
   * batch; applied once at its end, where each entry learns whether the
   * mailbox really was still to read it.
   */
  private readonly removals = new Map<string, Leaving>();
  /**
   * What the running operation added to `removals` (message id, mailbox id,
   * flat), taken back if it fails (its savepoint rolls back).
   */
  private opRemovals: string[] = [];
  /**
   * The seq of messages this store posted recently, by message id, so the
   * acknowledgements every reader sends for every message need no lookup.
   * Only a hint: another store on the same file may have deleted the message
   * and SQLite may reuse its seq, so a removal applies only if the row at
   * that seq still has its message id.
   */
  private readonly seqOf = new Map<string, number>();

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA secure_delete = ON');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA temp_store = MEMORY');
    this.db.exec('PRAGMA cache_size = -32768');
    this.db.exec(SCHEMA);
    migrate(this.db);
    upgrade(this.db);
    this.db.exec(INDEXES);
    const p = (sql: string): StatementSync => this.db.prepare(sql);
    this.s = {
      putCeremony: p('INSERT INTO ceremonies (id, kind, challenge, account_id, expires_at) VALUES (?, ?, ?, ?, ?)'),
      countCeremonies: p('SELECT COUNT(*) AS n FROM ceremonies'),
      evictCeremonies: p('DELETE FROM ceremonies WHERE id IN (SELECT id FROM ceremonies ORDER BY expires_at LIMIT ?)'),
      getCeremony: p('SELECT kind, challenge, account_id, expires_at FROM ceremonies WHERE id = ?'),
      delCeremony: p('DELETE FROM ceremonies WHERE id = ?'),
      insAccount: p('INSERT INTO accounts (account_id) VALUES (?)'),
      hasAccount: p('SELECT 1 AS x FROM accounts WHERE account_id = ?'),
      delAccount: p('DELETE FROM accounts WHERE account_id = ?'),
      delCredentialsOf: p('DELETE FROM credentials WHERE account_id = ?'),
      delSessionsOf: p('DELETE FROM sessions WHERE account_id = ?'),
      delKpsOf: p('DELETE FROM key_packages WHERE account_id = ?'),
      insCredential: p(
        'INSERT INTO credentials (credential_id, account_id, public_key, counter, transports) VALUES (?, ?, ?, ?, ?)',
      ),
      getCredential: p('SELECT account_id, public_key, counter, transports FROM credentials WHERE credential_id = ?'),
      setCounter: p('UPDATE credentials SET counter = ? WHERE credential_id = ?'),
      putSession: p('INSERT INTO sessions (token_hash, account_id, expires_at) VALUES (?, ?, ?)'),
      getSession: p('SELECT account_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?'),
      delSession: p('DELETE FROM sessions WHERE token_hash = ?'),
      countKp: p(
        'SELECT SUM(last_resort = 0) AS one_time, SUM(last_resort = 1) AS last_resort FROM key_packages WHERE account_id = ?',
      ),
      insKp: p('INSERT INTO key_packages (account_id, last_resort, data) VALUES (?, ?, ?)'),
      delLastResort: p('DELETE FROM key_packages WHERE account_id = ? AND last_resort = 1'),
      firstKp: p(
        'SELECT id, data, last_resort FROM key_packages WHERE account_id = ? ORDER BY last_resort ASC, id ASC LIMIT 1',
      ),
      delKp: p('DELETE FROM key_packages WHERE id = ?'),
      getRetire: p('SELECT hash, retired FROM key_package_retire WHERE account_id = ?'),
      putRetire: p('INSERT OR REPLACE INTO key_package_retire (account_id, hash, retired) VALUES (?, ?, ?)'),
      delRetireOf: p('DELETE FROM key_package_retire WHERE account_id = ?'),
      getQuota: p('SELECT used FROM quotas WHERE bucket = ?'),
      upsertQuota: p(
        'INSERT INTO quotas (bucket, used, expires_at) VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET used = excluded.used',
      ),
      listKeys: p('SELECT key_id, secret_key, public_key, issue_until, accept_until FROM token_keys'),
      putKey: p(
        'INSERT OR REPLACE INTO token_keys (key_id, secret_key, public_key, issue_until, accept_until) VALUES (?, ?, ?, ?, ?)',
      ),
      delKey: p('DELETE FROM token_keys WHERE key_id = ?'),
      delSpentOfKey: p('DELETE FROM spent WHERE key_id = ?'),
      insSpent: p('INSERT OR IGNORE INTO spent (key_id, input_hash) VALUES (?, ?)'),
      insMailbox: p('INSERT INTO mailboxes (mailbox_id, secret_hash, idle_until) VALUES (?, ?, ?)'),
      touchMailbox: p('UPDATE mailboxes SET idle_until = ?1 WHERE mailbox_id = ?2 AND (idle_until IS NULL OR idle_until < ?1)'),
      idleMailboxes: p('SELECT mailbox_id FROM mailboxes WHERE idle_until <= ?'),
      getMailbox: p('SELECT secret_hash FROM mailboxes WHERE mailbox_id = ?'),
      delMailbox: p('DELETE FROM mailboxes WHERE mailbox_id = ?'),
      delRegsOfMailbox: p('DELETE FROM registrations WHERE mailbox_id = ?'),
      countRegs: p('SELECT COUNT(*) AS n FROM registrations WHERE queue_hash = ? AND active = 1'),
      countQueuesOfMailbox: p('SELECT COUNT(*) AS n FROM registrations WHERE mailbox_id = ? AND active = 1'),
      usageOf: p('SELECT messages, bytes FROM usage WHERE scope = ?'),
      insReg: p(
        'INSERT INTO registrations (queue_hash, mailbox_id, active) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET active = 1',
      ),
      isRegistered: p('SELECT 1 AS x FROM registrations WHERE queue_hash = ? AND mailbox_id = ? AND active = 1'),
      delReg: p('DELETE FROM registrations WHERE queue_hash = ? AND mailbox_id = ?'),
      // One row with the list, not 50 row objects: this runs for every message.
      regsOfQueue: p(`SELECT group_concat(mailbox_id, ',') AS mailboxes FROM registrations WHERE queue_hash = ? AND active = 1`),
      delRegsOfQueue: p('DELETE FROM registrations WHERE queue_hash = ?'),
      getQueue: p('SELECT cap_hash, prev_cap_hash FROM queues WHERE queue_hash = ?'),
      insQueue: p('INSERT INTO queues (queue_hash, cap_hash, prev_cap_hash) VALUES (?, ?, NULL)'),
      rotateQueue: p('UPDATE queues SET prev_cap_hash = cap_hash, cap_hash = ? WHERE queue_hash = ?'),
      delQueue: p('DELETE FROM queues WHERE queue_hash = ?'),
      pendingInQueue: p('SELECT seq, message_id FROM messages WHERE queue_hash = ? AND instr(pending, ?) > 0'),
      delMessagesOfQueue: p('DELETE FROM messages WHERE queue_hash = ?'),
      insMessage: p(
        'INSERT INTO messages (message_id, queue_hash, recipient, pending, expires_at, payload) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // A mailbox's unexpired messages, in order.
      fetch: p(
        `SELECT message_id, payload, queue_hash FROM messages WHERE ${MAILBOX_MESSAGES} AND expires_at > ?3 ORDER BY seq LIMIT ?4`,
      ),
      seqsOfMailbox: p(`SELECT seq, message_id FROM messages WHERE ${MAILBOX_MESSAGES}`),
      // The acknowledged ids that exist (an index-only lookup); whether this mailbox had them is settled at the batch end.
      seqsOfIds: p('SELECT seq, message_id FROM messages WHERE message_id IN (SELECT value FROM json_each(?))'),
      pendingOf: p('SELECT message_id, pending FROM messages WHERE seq = ?'),
      setPending: p('UPDATE messages SET pending = ? WHERE seq = ?'),
      delMessage: p('DELETE FROM messages WHERE seq = ?'),
      savepoint: p('SAVEPOINT op'),
      release: p('RELEASE op'),
      rollbackTo: p('ROLLBACK TO op'),
      sweepMessages: p('DELETE FROM messages WHERE expires_at <= ?'),
      // Inactive registrations whose mailbox has read (or lost to expiry) everything of that queue.
      sweepRegistrations: p(
        `DELETE FROM registrations WHERE active = 0 AND NOT EXISTS (
           SELECT 1 FROM messages m WHERE m.queue_hash = registrations.queue_hash
             AND instr(m.pending, ',' || registrations.mailbox_id || ',') > 0)`,
      ),
      sweepInvites: p('DELETE FROM invites WHERE expires_at <= ?'),
      insInvite: p(
        'INSERT OR IGNORE INTO invites (invite_hash, write_key_hash, ciphertext, expires_at, one_time) VALUES (?, ?, ?, ?, ?)',
      ),
      updInvite: p('UPDATE invites SET ciphertext = ? WHERE invite_hash = ? AND write_key_hash = ? AND expires_at > ?'),
      getInvite: p('SELECT ciphertext, one_time FROM invites WHERE invite_hash = ? AND expires_at > ? AND length(ciphertext) > 0'),
      // A deleted invite stays as a tombstone (no ciphertext, no write key) until it expires, so its id cannot be re-created.
      delInvite: p("UPDATE invites SET ciphertext = X'', write_key_hash = '' WHERE invite_hash = ?"),
      delInviteWithKey: p(
        "UPDATE invites SET ciphertext = X'', write_key_hash = '' WHERE invite_hash = ? AND write_key_hash = ? AND length(ciphertext) > 0",
      ),
      sweepSessions: p('DELETE FROM sessions WHERE expires_at <= ?'),
      sweepCeremonies: p('DELETE FROM ceremonies WHERE expires_at <= ?'),
      sweepQuotas: p('DELETE FROM quotas WHERE expires_at <= ?'),
    };
  }

  /**
   * Runs fn atomically in a write transaction and resolves once it is
   * committed. Group commit: operations queued in the same event-loop turn
   * share one transaction, each inside its own savepoint so a failing one
   * rolls back alone. fn is synchronous, so nothing interleaves with it.
   */
  private tx<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the I/O events of this loop turn (every frame already read joins the batch).
    // Not setTimeout(0): in Deno each one costs ~0.1 ms of CPU and waits ~1–2 ms.
    setImmediate(() => this.flush());
  }

  /**
   * Like tx, for an acknowledgement: it joins the batch after ACK_BATCH_MS.
   * fn must not write (it records removals, applied at the batch's end), so
   * it runs without a savepoint of its own.
   */
  private ackTx<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.acks.push({ fn, resolve: resolve as (v: unknown) => void, reject, memoryOnly: true });
      this.ackTimer ??= setTimeout(() => this.releaseAcks(), ACK_BATCH_MS);
    });
  }

  private releaseAcks(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.acks.length === 0) return;
    this.pending.push(...this.acks);
    this.acks = [];
    this.scheduleFlush();
  }

  private flush(): void {
    this.flushScheduled = false;
    const ops = this.pending;
    this.pending = [];
    if (ops.length === 0) return;
    const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const op of ops) {
        // An acknowledgement only reads and records removals in memory: it needs no savepoint.
        const writes = !op.memoryOnly;
        if (writes) this.s.savepoint!.run();
        this.opRemovals = [];
        try {
          const value = op.fn();
          if (writes) this.s.release!.run();
          results.push({ ok: true, value });
        } catch (error) {
          for (let i = 0; i < this.opRemovals.length; i += 2) {
            this.removals.get(this.opRemovals[i]!)?.readers.delete(this.opRemovals[i + 1]!);
          }
          this.opRemovals = [];
          if (writes) {
            this.s.rollbackTo!.run();
            this.s.release!.run();
          }
          results.push({ ok: false, error });
        }
      }
      this.applyRemovals();
      this.db.exec('COMMIT');
    } catch (err) {
      this.removals.clear();
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // no transaction left to roll back
      }
      for (const op of ops) op.reject(err);
      return;
    }
    ops.forEach((op, i) => {
      const r = results[i];
      if (r === undefined) op.reject(new Error('lost batch result'));
      else if (r.ok) op.resolve(r.value);
      else op.reject(r.error);
    });
  }

  /**
   * Takes the batch's readers off each message's pending list, one update per
   * message; a message goes with its last reader.
   */
  private applyRemovals(): void {
    for (const [messageId, { seq, readers }] of this.removals) {
      const row = this.s.pendingOf!.get(seq);
      // Gone: deleted in this batch (its queue deleted), or by another store (the seq may hold another message now).
      if (row === undefined || row.message_id !== messageId) continue;
      const left: string[] = [];
      let changed = false;
      for (const mb of str(row.pending).split(',')) {
        if (mb === '') continue;
        const removal = readers.get(mb);
        if (removal === undefined) left.push(mb);
        else removal.done = changed = true;
      }
      if (!changed) continue;
      if (left.length === 0) {
        this.s.delMessage!.run(seq);
        this.seqOf.delete(messageId);
      } else {
        this.s.setPending!.run(`,${left.join(',')},`, seq);
      }
    }
    this.removals.clear();
  }

  /** Remember where a message just inserted is. */
  private remember(messageId: string, seq: number): void {
    this.seqOf.set(messageId, seq);
    if (this.seqOf.size > SEQ_CACHE_MAX) {
      const oldest = this.seqOf.keys().next().value;
      if (oldest !== undefined) this.seqOf.delete(oldest);
    }
  }

  /**
   * Records, for the end of the batch, that `mailboxId` no longer waits for
   * message `messageId` (at `seq`); null if this batch already has that.
   */
  private remove(messageId: string, seq: number, mailboxId: string): Removal | null {
    let leaving = this.removals.get(messageId);
    if (leaving === undefined) {
      leaving = { seq, readers: new Map() };
      this.removals.set(messageId, leaving);
    }
    if (leaving.readers.has(mailboxId)) return null;
    const removal: Removal = { done: false };
    leaving.readers.set(mailboxId, removal);
    this.opRemovals.push(messageId, mailboxId);
    return removal;
  }

  private trySpend(spend: Spend): boolean {
    return Number(this.s.insSpent!.run(spend.keyId, spend.inputHash).changes) === 1;
  }

  async putCeremony(id: string, c: Ceremony, max: number): Promise<void> {
    await this.tx(() => {
      const over = num(this.s.countCeremonies!.get()?.n) - max + 1;
      if (over > 0) this.s.evictCeremonies!.run(over);
      this.s.putCeremony!.run(id, c.kind, c.challenge, c.accountId, c.expiresAt);
    });
  }

  async takeCeremony(id: string, now: number): Promise<Ceremony | null> {
    return this.tx(() => {
      const row = this.s.getCeremony!.get(id);
      if (row === undefined) return null;
      this.s.delCeremony!.run(id);
      if (num(row.expires_at) <= now) return null;
      const kind = str(row.kind) === 'register' ? 'register' : 'login';
      return {
        kind,
        challenge: str(row.challenge),
        accountId: row.account_id === null ? null : str(row.account_id),
        expiresAt: num(row.expires_at),
      };
    });
  }

  async createAccount(accountId: string, c: StoredCredential): Promise<void> {
    await this.tx(() => {
      this.s.insAccount!.run(accountId);
      this.s.insCredential!.run(c.credentialId, accountId, c.publicKey, c.counter, JSON.stringify(c.transports));
    });
  }

  async getCredential(credentialId: string): Promise<StoredCredential | null> {
    const row = this.s.getCredential!.get(credentialId);
    if (row === undefined) return null;
    let transports: string[] = [];
    try {
      const parsed: unknown = JSON.parse(str(row.transports));
      if (Array.isArray(parsed)) transports = parsed.filter((t): t is string => typeof t === 'string');
    } catch {
      transports = [];
    }
    return {
      credentialId,
      accountId: str(row.account_id),
      publicKey: blob(row.public_key),
      counter: num(row.counter),
      transports,
    };
  }

  async updateCredentialCounter(credentialId: string, counter: number): Promise<void> {
    this.s.setCounter!.run(counter, credentialId);
  }

  async accountExists(accountId: string): Promise<boolean> {
    return this.s.hasAccount!.get(accountId) !== undefined;
  }

  async deleteAccount(accountId: string): Promise<boolean> {
    const deleted = await this.tx(() => {
      const existed = Number(this.s.delAccount!.run(accountId).changes) > 0;
      this.s.delCredentialsOf!.run(accountId);
      this.s.delSessionsOf!.run(accountId);
      this.s.delKpsOf!.run(accountId);
      this.s.delRetireOf!.run(accountId);
      return existed;
    });
    // Key packages and public keys leave the WAL too (scrub).
    this.dirty = true;
    return deleted;
  }

  async putSession(tokenHash: string, accountId: string, expiresAt: number): Promise<void> {
    this.s.putSession!.run(tokenHash, accountId, expiresAt);
  }

  async getSession(tokenHash: string, now: number): Promise<{ accountId: string; expiresAt: number } | null> {
    const row = this.s.getSession!.get(tokenHash, now);
    return row === undefined ? null : { accountId: str(row.account_id), expiresAt: num(row.expires_at) };
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.s.delSession!.run(tokenHash);
  }

  private counts(accountId: string): KeyPackageCounts {
    const row = this.s.countKp!.get(accountId);
    return { oneTime: num(row?.one_time ?? 0), lastResort: num(row?.last_resort ?? 0) > 0 };
  }

  async addKeyPackages(
    accountId: string,
    oneTime: Uint8Array[],
    lastResort: Uint8Array | undefined,
    maxOneTime: number,
  ): Promise<SpendResult<KeyPackageCounts>> {
    return this.tx(() => {
      const before = this.counts(accountId);
      if (before.oneTime + oneTime.length > maxOneTime) return { ok: false, reason: 'full' } as const;
      for (const kp of oneTime) this.s.insKp!.run(accountId, 0, kp);
      if (lastResort !== undefined) {
        this.s.delLastResort!.run(accountId);
        this.s.insKp!.run(accountId, 1, lastResort);
      }
      return { ok: true, value: this.counts(accountId) } as const;
    });
  }

  async claimKeyPackage(accountId: string): Promise<Uint8Array | null> {
    return this.tx(() => {
      const row = this.s.firstKp!.get(accountId);
      if (row === undefined) return null;
      // RFC 9420 §16.8: one-time packages are used once; the last-resort one stays.
      if (num(row.last_resort) === 0) {
        this.s.delKp!.run(num(row.id));
        this.dirty = true;
      }
      return blob(row.data);
    });
  }

  async countKeyPackages(accountId: string): Promise<KeyPackageCounts> {
    return this.counts(accountId);
  }

  async setKeyPackageRetireHash(accountId: string, hash: Uint8Array): Promise<boolean> {
    return this.tx(() => {
      if (num(this.s.getRetire!.get(accountId)?.retired ?? 0) === 1) return false;
      this.s.putRetire!.run(accountId, hash, 0);
      return true;
    });
  }

  async retireKeyPackages(accountId: string, hash: Uint8Array): Promise<boolean> {
    return this.tx(() => {
      const row = this.s.getRetire!.get(accountId);
      if (row === undefined || !sameBytes(blob(row.hash), hash)) return false;
      this.s.delKpsOf!.run(accountId);
      this.s.putRetire!.run(accountId, hash, 1);
      this.dirty = true;
      return true;
    });
  }

  async keyPackagesRetired(accountId: string): Promise<boolean> {
    return num(this.s.getRetire!.get(accountId)?.retired ?? 0) === 1;
  }

  async consumeQuota(bucket: string, amount: number, max: number, expiresAt: number): Promise<boolean> {
    return this.tx(() => {
      const used = num(this.s.getQuota!.get(bucket)?.used ?? 0);
      if (used + amount > max) return false;
      this.s.upsertQuota!.run(bucket, used + amount, expiresAt);
      return true;
    });
  }

  async listTokenKeys(): Promise<TokenKey[]> {
    return this.s.listKeys!.all().map((r) => ({
      keyId: str(r.key_id),
      secretKey: blob(r.secret_key),
      publicKey: blob(r.public_key),
      issueUntil: num(r.issue_until),
      acceptUntil: num(r.accept_until),
    }));
  }

  async putTokenKey(k: TokenKey): Promise<void> {
    this.s.putKey!.run(k.keyId, k.secretKey, k.publicKey, k.issueUntil, k.acceptUntil);
  }

  async retireTokenKey(keyId: string): Promise<void> {
    await this.tx(() => {
      this.s.delKey!.run(keyId);
      this.s.delSpentOfKey!.run(keyId);
    });
    this.dirty = true;
  }

  async spend(spend: Spend): Promise<boolean> {
    return this.trySpend(spend);
  }

  async createMailbox(spend: Spend, mailboxId: string, secretHash: string, idleUntil: number): Promise<SpendResult<null>> {
    return this.tx(() => {
      if (!this.trySpend(spend)) return { ok: false, reason: 'spent' } as const;
      this.s.insMailbox!.run(mailboxId, secretHash, idleUntil);
      return { ok: true, value: null } as const;
    });
  }

  async touchMailbox(mailboxId: string, idleUntil: number): Promise<void> {
    await this.tx(() => this.s.touchMailbox!.run(idleUntil, mailboxId));
  }

  async getMailboxSecretHash(mailboxId: string): Promise<string | null> {
    const row = this.s.getMailbox!.get(mailboxId);
    return row === undefined ? null : str(row.secret_hash);
  }

  async deleteMailbox(mailboxId: string): Promise<boolean> {
    const existed = await this.tx(() => {
      if (this.s.getMailbox!.get(mailboxId) === undefined) return false;
      this.dropMailbox(mailboxId);
      return true;
    });
    this.dirty = true;
    return existed;
  }

  /** The presented capability hash against the queue's: 'absent' when there is no such queue. */
  private capability(queueHash: string, capHash: string): 'ok' | 'stale' | 'not_found' | 'absent' {
    const q = this.s.getQueue!.get(queueHash);
    if (q === undefined) return 'absent';
    if (str(q.cap_hash) === capHash) return 'ok';
    return q.prev_cap_hash !== null && str(q.prev_cap_hash) === capHash ? 'stale' : 'not_found';
  }

  /** The mailbox, its registrations, and its place on every pending list (the batch end deletes what nobody else reads). */
  private dropMailbox(mailboxId: string): void {
    for (const r of this.s.seqsOfMailbox!.all(mailboxId, entry(mailboxId))) this.remove(str(r.message_id), num(r.seq), mailboxId);
    this.s.delRegsOfMailbox!.run(mailboxId);
    this.s.delMailbox!.run(mailboxId);
  }

  /** Whether one more message of `bytes` fits the scope's and the global caps. */
  private fits(scope: string, bytes: number, caps: StorageCaps): boolean {
    const mine = this.s.usageOf!.get(scope);
    const all = this.s.usageOf!.get('');
    if (num(mine?.messages ?? 0) + 1 > caps.maxMessagesPerScope) return false;
    if (num(mine?.bytes ?? 0) + bytes > caps.maxBytesPerScope) return false;
    return num(all?.bytes ?? 0) + bytes <= caps.maxTotalBytes;
  }

  async registerMailbox(queueHash: string, capHash: string, mailboxId: string, maxPerQueue: number, maxPerMailbox: number): Promise<SpendResult<null>> {
    return this.tx(() => {
      const cap = this.capability(queueHash, capHash);
      if (cap === 'stale' || cap === 'not_found') return { ok: false, reason: cap } as const;
      if (this.s.getMailbox!.get(mailboxId) === undefined) return { ok: false, reason: 'not_found' } as const;
      if (this.s.isRegistered!.get(queueHash, mailboxId) !== undefined) return { ok: true, value: null } as const;
      if (num(this.s.countRegs!.get(queueHash)?.n) >= maxPerQueue) return { ok: false, reason: 'full' } as const;
      if (num(this.s.countQueuesOfMailbox!.get(mailboxId)?.n) >= maxPerMailbox) return { ok: false, reason: 'full' } as const;
      if (cap === 'absent') this.s.insQueue!.run(queueHash, capHash);
      this.s.insReg!.run(queueHash, mailboxId);
      return { ok: true, value: null } as const;
    });
  }

  async unregisterMailbox(queueHash: string, capHash: string, mailboxId: string): Promise<SpendResult<null>> {
    const r = await this.tx(() => {
      const cap = this.capability(queueHash, capHash);
      if (cap !== 'ok') return { ok: false, reason: cap === 'stale' ? 'stale' : 'not_found' } as const;
      if (this.s.isRegistered!.get(queueHash, mailboxId) === undefined) return { ok: false, reason: 'not_found' } as const;
      // A removed member's mailbox keeps nothing of the queue: what waited for it goes too.
      for (const m of this.s.pendingInQueue!.all(queueHash, entry(mailboxId))) this.remove(str(m.message_id), num(m.seq), mailboxId);
      this.s.delReg!.run(queueHash, mailboxId);
      return { ok: true, value: null } as const;
    });
    if (r.ok) this.dirty = true;
    return r;
  }

  async deleteQueue(queueHash: string, capHash: string): Promise<SpendResult<null>> {
    const r = await this.tx(() => {
      const cap = this.capability(queueHash, capHash);
      if (cap !== 'ok') return { ok: false, reason: cap === 'stale' ? 'stale' : 'not_found' } as const;
      this.s.delMessagesOfQueue!.run(queueHash);
      this.s.delRegsOfQueue!.run(queueHash);
      this.s.delQueue!.run(queueHash);
      return { ok: true, value: null } as const;
    });
    this.dirty = true;
    return r;
  }

  async postToQueue(spend: Spend, queueHash: string, capHash: string, m: NewMessage, rotateTo: string | null, caps: StorageCaps): Promise<SpendResult<string[]>> {
    return this.tx(() => {
      const cap = this.capability(queueHash, capHash);
      if (cap !== 'ok') return { ok: false, reason: cap === 'stale' ? 'stale' : 'not_found' } as const;
      const list = this.s.regsOfQueue!.get(queueHash)?.mailboxes;
      if (typeof list !== 'string' || list === '') return { ok: false, reason: 'not_found' } as const;
      if (!this.fits(`q:${queueHash}`, m.payload.length, caps)) return { ok: false, reason: 'full' } as const;
      if (!this.trySpend(spend)) return { ok: false, reason: 'spent' } as const;
      const seq = Number(this.s.insMessage!.run(m.messageId, queueHash, null, `,${list},`, m.expiresAt, m.payload).lastInsertRowid);
      this.remember(m.messageId, seq);
      if (rotateTo !== null) this.s.rotateQueue!.run(rotateTo, queueHash);
      return { ok: true, value: list.split(',') } as const;
    });
  }

  async postToMailbox(spend: Spend, mailboxId: string, m: NewMessage, caps: StorageCaps): Promise<SpendResult<null>> {
    return this.tx(() => {
      if (this.s.getMailbox!.get(mailboxId) === undefined) return { ok: false, reason: 'not_found' } as const;
      if (!this.fits(`m:${mailboxId}`, m.payload.length, caps)) return { ok: false, reason: 'full' } as const;
      if (!this.trySpend(spend)) return { ok: false, reason: 'spent' } as const;
      const seq = Number(this.s.insMessage!.run(m.messageId, null, mailboxId, entry(mailboxId), m.expiresAt, m.payload).lastInsertRowid);
      this.remember(m.messageId, seq);
      return { ok: true, value: null } as const;
    });
  }

  async fetchMailbox(mailboxId: string, limit: number, now: number): Promise<StoredMessage[]> {
    return this.s.fetch!.all(mailboxId, entry(mailboxId), now, limit).map((r) => ({
      messageId: str(r.message_id),
      payload: blob(r.payload),
      kind: r.queue_hash === null ? 'welcome' : 'group',
    }));
  }

  async ack(mailboxId: string, messageIds: string[]): Promise<number> {
    // Only this mailbox's copies: an ACK never touches another mailbox or message.
    const removals = await this.ackTx(() => {
      const out: (Removal | null)[] = [];
      const unknown: string[] = [];
      for (const id of messageIds) {
        const seq = this.seqOf.get(id);
        if (seq !== undefined) out.push(this.remove(id, seq, mailboxId));
        else unknown.push(id);
      }
      if (unknown.length > 0) {
        for (const row of this.s.seqsOfIds!.all(JSON.stringify(unknown))) out.push(this.remove(str(row.message_id), num(row.seq), mailboxId));
      }
      return out;
    });
    const removed = removals.filter((r) => r?.done === true).length;
    if (removed > 0) this.dirty = true;
    return removed;
  }

  async sweep(now: number): Promise<SweepResult> {
    const result = await this.tx(() => {
      const messages = Number(this.s.sweepMessages!.run(now).changes);
      this.s.sweepRegistrations!.run();
      const idle = this.s.idleMailboxes!.all(now);
      for (const r of idle) this.dropMailbox(str(r.mailbox_id));
      const sessions = Number(this.s.sweepSessions!.run(now).changes);
      const ceremonies = Number(this.s.sweepCeremonies!.run(now).changes);
      this.s.sweepQuotas!.run(now);
      this.s.sweepInvites!.run(now);
      return { messages, sessions, ceremonies, mailboxes: idle.length };
    });
    this.dirty = true;
    return result;
  }

  async putInvite(inviteHash: string, invite: StoredInvite): Promise<boolean> {
    return this.tx(() => {
      const r = this.s.insInvite!.run(inviteHash, invite.writeKeyHash, invite.ciphertext, invite.expiresAt, invite.oneTime ? 1 : 0);
      return Number(r.changes) === 1;
    });
  }

  async updateInvite(inviteHash: string, writeKeyHash: string, ciphertext: Uint8Array, now: number): Promise<boolean> {
    const changed = await this.tx(() => Number(this.s.updInvite!.run(ciphertext, inviteHash, writeKeyHash, now).changes) === 1);
    // The old ciphertext was overwritten: let scrub() clear its page images.
    if (changed) this.dirty = true;
    return changed;
  }

  async readInvite(inviteHash: string, now: number): Promise<Uint8Array | null> {
    return this.tx(() => {
      const row = this.s.getInvite!.get(inviteHash, now);
      if (row === undefined) return null;
      if (num(row.one_time) === 1) {
        this.s.delInvite!.run(inviteHash);
        this.dirty = true;
      }
      return blob(row.ciphertext);
    });
  }

  async deleteInvite(inviteHash: string, writeKeyHash: string): Promise<boolean> {
    const deleted = await this.tx(() => Number(this.s.delInviteWithKey!.run(inviteHash, writeKeyHash).changes) === 1);
    if (deleted) this.dirty = true;
    return deleted;
  }

  async scrub(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    // Copy the WAL into the main file (where secure_delete already zeroed freed
    // content) and truncate it, so no old page image keeps deleted ciphertext.
    // If a reader (e.g. the dump tool) kept it from completing, try again next time.
    const r = this.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
    if (r === undefined || num(r.busy) !== 0) this.dirty = true;
  }

  async close(): Promise<void> {
    this.releaseAcks();
    this.flush();
    try {
      this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
