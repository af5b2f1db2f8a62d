// Backup content (lib/background/backup/): sealing and padding, the strict manifest and segment
// readers, the incremental writer (only changed segments re-uploaded; history only when opted in;
// quota shown), moving to a new recovery key, the backup file, and the restore job (a wrong key
// writes nothing; a job interrupted mid-way resumes; a conversation without rejoin material says so).
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../lib/crypto/errors.ts';
import { RelayApiError } from '../../lib/background/relay-wire.ts';
import {
  BackupContentError,
  SEGMENT_RECORDS,
  decodeManifest,
  decodeSegment,
  encodeManifest,
  encodeSegment,
  segmentHash,
  type BackupManifest,
  type BackupSettings,
} from '../../lib/background/backup/backup-content.ts';
import { openItem, paddedLength, sealItem } from '../../lib/background/backup/backup-seal.ts';
import { BackupFile, BackupFileError, encodeBackupFile, type BackupSink } from '../../lib/background/backup/backup-storage.ts';
import { BackupWriter, moveBackup, type BackupLedger, type BackupStatus } from '../../lib/background/backup/backup-writer.ts';
import type { BackupInputs, Persisted, RestoreTargets } from '../../lib/background/backup/ports.ts';
import { Restore, RestoreRefusedError, openManifest, type RestoreJob } from '../../lib/background/backup/restore.ts';
import {
  RecoveryKeyError,
  deriveBackupKeys,
  formatRecoveryKey,
  generateRecoverySecret,
  type ItemName,
} from '../../lib/background/backup/recovery-key.ts';
import type { HistoryRecord } from '../../lib/background/linking/ports.ts';

const SETTINGS: BackupSettings = { notifications: true, notificationContent: 'name', readReceipts: false, backupHistory: true };
const record = (conversationId: string, i: number): HistoryRecord => ({
  conversationId,
  id: `${conversationId}-m${i}`,
  kind: 'text',
  text: `message ${i}`,
  sender: { displayName: i % 2 === 0 ? 'Alice' : 'Bob', self: i % 2 === 0 },
  sentAt: 1_700_000_000_000 + i,
});

class MemorySink implements BackupSink {
  readonly items = new Map<string, Uint8Array>();
  puts: string[] = [];
  drops: string[] = [];
  deleted = false;
  maxBytes = 10_000_000;
  async list() {
    return this.deleted && this.items.size === 0 ? null : [...this.items].map(([item, d]) => ({ item, size: d.length }));
  }
  async get(item: ItemName) {
    return this.items.get(item) ?? null;
  }
  async put(item: ItemName, data: Uint8Array) {
    const bytes = [...this.items].filter(([k]) => k !== item).reduce((n, [, d]) => n + d.length, 0) + data.length;
    if (bytes > this.maxBytes) throw new RelayApiError(429, 'quota_exceeded', 'quota');
    this.items.set(item, data);
    this.puts.push(item);
    return { bytes, maxBytes: this.maxBytes };
  }
  async drop(item: ItemName) {
    this.items.delete(item);
    this.drops.push(item);
  }
  async deleteAll() {
    this.items.clear();
    this.deleted = true;
  }
}

function memory<T>(): Persisted<T> & { value: T | undefined } {
  const m = {
    value: undefined as T | undefined,
    load: async () => (m.value === undefined ? undefined : structuredClone(m.value)),
    save: async (v: T) => {
      m.value = structuredClone(v);
    },
    clear: async () => {
      m.value = undefined;
    },
  };
  return m;
}

function inputs(history: Map<string, HistoryRecord[]>, settings = SETTINGS): BackupInputs & { settingsNow: BackupSettings } {
  const i = {
    settingsNow: settings,
    identity: async () => new TextEncoder().encode('IDENTITY-SECRET-MATERIAL'),
    displayName: async () => 'Alice Example',
    settings: async () => i.settingsNow,
    conversations: async () => [...history.keys()].map((id) => ({ id, name: `Conversation ${id}` })),
    history: async (id: string) => history.get(id) ?? [],
  };
  return i;
}

const tickets = { ticketFor: async (id: string) => (id === 'c-none' ? undefined : new TextEncoder().encode(`ticket-${id}`)) };

function setup(history: Map<string, HistoryRecord[]>, settings = SETTINGS) {
  const secret = generateRecoverySecret();
  const keys = deriveBackupKeys(secret);
  const sink = new MemorySink();
  const ledger = memory<BackupLedger>();
  const statuses: BackupStatus[] = [];
  const inp = inputs(history, settings);
  const writer = new BackupWriter(keys, sink, inp, tickets, ledger, { onStatus: (s) => statuses.push(s), delayMs: 20 });
  return { secret, keys, sink, ledger, statuses, inp, writer, typed: formatRecoveryKey(secret) };
}

function targets(): RestoreTargets & { identity?: Uint8Array; account?: [string, BackupSettings]; history: HistoryRecord[]; calls: number } {
  const t = {
    history: [] as HistoryRecord[],
    calls: 0,
    identity: undefined as Uint8Array | undefined,
    account: undefined as [string, BackupSettings] | undefined,
    adoptIdentity: async (b: Uint8Array) => {
      t.calls++;
      t.identity = b;
    },
    importAccount: async (name: string, s: BackupSettings) => {
      t.calls++;
      t.account = [name, s];
    },
    importHistory: async (records: HistoryRecord[]) => {
      t.calls++;
      const ids = new Set(t.history.map((r) => r.id));
      t.history.push(...records.filter((r) => !ids.has(r.id)));
    },
  };
  return t;
}

describe('backup sealing', () => {
  it('opens only with the same key, backup and item name; a flipped byte fails (BACKUP-AEAD-1)', async () => {
    const a = deriveBackupKeys(generateRecoverySecret());
    const b = deriveBackupKeys(generateRecoverySecret());
    const item = a.itemName('manifest');
    const sealed = await sealItem(a.key, a.backupId, item, new TextEncoder().encode('hello'));
    expect(new TextDecoder().decode(await openItem(a.key, a.backupId, item, sealed))).toBe('hello');
    await expect(openItem(b.key, a.backupId, item, sealed)).rejects.toThrow(CryptoError);
    await expect(openItem(a.key, a.backupId, a.itemName('segment:x:0'), sealed)).rejects.toThrow(CryptoError);
    await expect(openItem(a.key, b.backupId, item, sealed)).rejects.toThrow(CryptoError);
    for (const at of [0, 5, 20, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 1;
      await expect(openItem(a.key, a.backupId, item, bad)).rejects.toThrow(CryptoError);
    }
    await expect(openItem(a.key, a.backupId, item, sealed.subarray(0, 100))).rejects.toThrow(CryptoError);
  });

  it('pads to coarse sizes: at least 1 KiB, at most a quarter more, and the same for nearby lengths', async () => {
    expect(paddedLength(0)).toBe(1024);
    expect(paddedLength(1000)).toBe(1024);
    expect(paddedLength(5000)).toBe(paddedLength(5100));
    for (const n of [1, 100, 1020, 1021, 4096, 10_000, 123_456, 1_000_000]) {
      expect(paddedLength(n)).toBeGreaterThanOrEqual(n + 4);
      if (n > 1020) expect(paddedLength(n)).toBeLessThanOrEqual(Math.ceil((n + 4) * 1.25) + 1);
    }
    const k = deriveBackupKeys(generateRecoverySecret());
    const item = k.itemName('x');
    const short = await sealItem(k.key, k.backupId, item, new Uint8Array(10));
    const longer = await sealItem(k.key, k.backupId, item, new Uint8Array(900));
    expect(short.length).toBe(longer.length);
  });
});

describe('backup content readers', () => {
  const manifest: BackupManifest = {
    v: 1,
    written: 3,
    identity: new Uint8Array([1, 2, 3]),
    displayName: 'Alice',
    settings: SETTINGS,
    conversations: [{ id: 'c1', name: 'Team', rejoin: new Uint8Array([9]), segments: [] }],
  };

  it('round-trips a manifest and refuses extra, missing or mistyped fields', () => {
    expect(decodeManifest(encodeManifest(manifest))).toEqual(manifest);
    const o = JSON.parse(new TextDecoder().decode(encodeManifest(manifest))) as Record<string, unknown>;
    const variants: unknown[] = [
      { ...o, extra: 1 },
      { ...o, v: 2 },
      { ...o, written: 0 },
      { ...o, settings: { ...SETTINGS, backupHistory: 'yes' } },
      { ...o, settings: { ...SETTINGS, notificationContent: 'all' } },
      { ...o, conversations: [...(o.conversations as unknown[]), ...(o.conversations as unknown[])] },
      { ...o, identity: '***' },
      (({ displayName: _, ...rest }) => rest)(o),
    ];
    for (const v of variants) expect(() => decodeManifest(new TextEncoder().encode(JSON.stringify(v)))).toThrow(BackupContentError);
    expect(() => decodeManifest(new Uint8Array([0xff, 0xfe]))).toThrow(BackupContentError);
  });

  it("keeps a conversation's member names when there are some, and reads them strictly", () => {
    const named: BackupManifest = { ...manifest, conversations: [{ ...manifest.conversations[0]!, names: { m1: 'Bob', m2: 'Carol' } }] };
    expect(decodeManifest(encodeManifest(named))).toEqual(named);
    const o = JSON.parse(new TextDecoder().decode(encodeManifest(named))) as { conversations: Record<string, unknown>[] };
    const c = o.conversations[0]!;
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`m${i}`, 'x']));
    for (const names of [null, [], 'Bob', { m1: 7 }, { m1: 'x'.repeat(201) }, { ['x'.repeat(129)]: 'Bob' }, many]) {
      const bad = { ...o, conversations: [{ ...c, names }] };
      expect(() => decodeManifest(new TextEncoder().encode(JSON.stringify(bad))), JSON.stringify(names).slice(0, 40)).toThrow(BackupContentError);
    }
  });

  it('reads a segment only if it is the one the manifest names (BACKUP-SEG-1)', () => {
    const seg = { v: 1 as const, conversationId: 'c1', index: 0, records: [record('c1', 0), record('c1', 1)] };
    const bytes = encodeSegment(seg);
    const ref = { item: 'A'.repeat(22), hash: segmentHash(bytes), count: 2 };
    expect(decodeSegment(bytes, ref, 'c1', 0)).toEqual(seg);
    expect(() => decodeSegment(bytes, ref, 'c2', 0)).toThrow(/BACKUP-SEG-1/);
    expect(() => decodeSegment(bytes, ref, 'c1', 1)).toThrow(/BACKUP-SEG-1/);
    expect(() => decodeSegment(bytes, { ...ref, count: 3 }, 'c1', 0)).toThrow(/BACKUP-SEG-1/);
    const older = encodeSegment({ ...seg, records: [record('c1', 0)] });
    expect(() => decodeSegment(older, ref, 'c1', 0)).toThrow(/BACKUP-SEG-1/);
  });
});

describe('backup writer', () => {
  it('uploads only the changed segment and the manifest after a new message', async () => {
    const history = new Map([
      ['c1', Array.from({ length: SEGMENT_RECORDS + 10 }, (_, i) => record('c1', i))],
      ['c2', [record('c2', 0)]],
    ]);
    const t = setup(history);
    await t.writer.runNow();
    // c1: 2 segments, c2: 1, and the manifest.
    expect(t.sink.puts).toHaveLength(4);
    const first = new Set(t.sink.items.keys());
    t.sink.puts = [];
    history.get('c1')!.push(record('c1', 999));
    await t.writer.runNow();
    // The changed segment goes under a new name, then the manifest; the old segment is dropped only after it.
    expect(t.sink.puts).toHaveLength(2);
    expect(first.has(t.sink.puts[0]!)).toBe(false);
    expect(t.sink.puts[1]).toBe(t.keys.itemName('manifest'));
    expect(t.sink.drops).toHaveLength(1);
    expect(first.has(t.sink.drops[0]!)).toBe(true);
    expect(t.sink.items.size).toBe(4);
    t.sink.puts = [];
    await t.writer.runNow();
    expect(t.sink.puts).toEqual([t.keys.itemName('manifest')]);
    expect(t.statuses.at(-1)).toMatchObject({ state: 'done', uploaded: 1 });
  });

  it('a run stopped between a changed segment and the manifest leaves a backup that still restores whole', async () => {
    const history = new Map([['c1', [record('c1', 0)]]]);
    const t = setup(history);
    await t.writer.runNow();
    history.get('c1')!.push(record('c1', 1));
    // The worker dies as the manifest is written: the new segment is up, the manifest is the old one.
    const put = t.sink.put.bind(t.sink);
    t.sink.put = async (item, data) => {
      if (item === t.keys.itemName('manifest')) throw new Error('worker stopped');
      return put(item, data);
    };
    await expect(t.writer.runNow()).rejects.toThrow('worker stopped');
    const tg = targets();
    await new Restore({ source: t.sink, targets: tg, rejoiner: { rejoin: async () => {} }, jobs: memory() }).start(t.typed);
    expect(tg.history.map((r) => r.id)).toEqual(['c1-m0']);
  });

  it('debounces: many changes in a short while make one run', async () => {
    const t = setup(new Map([['c1', [record('c1', 0)]]]));
    for (let i = 0; i < 20; i++) t.writer.schedule();
    const manifests = (): number => t.sink.puts.filter((p) => p === t.keys.itemName('manifest')).length;
    // The run's own time is not judged (a busy machine stretches it): its end, then no second run.
    for (let waited = 0; manifests() === 0 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    expect(manifests()).toBe(1);
  });

  it('backs up no history unless the person opted in, and drops it when they opt out', async () => {
    const history = new Map([['c1', [record('c1', 0), record('c1', 1)]]]);
    const off = setup(history, { ...SETTINGS, backupHistory: false });
    await off.writer.runNow();
    expect(off.sink.puts).toEqual([off.keys.itemName('manifest')]);
    const on = setup(history);
    await on.writer.runNow();
    expect(on.sink.items.size).toBe(2);
    const segments = [...on.sink.items.keys()].filter((k) => k !== on.keys.itemName('manifest'));
    on.inp.settingsNow = { ...SETTINGS, backupHistory: false };
    await on.writer.runNow();
    expect(on.sink.drops).toEqual(segments);
    expect([...on.sink.items.keys()]).toEqual([on.keys.itemName('manifest')]);
  });

  it('holds no plaintext: names, texts and the identity are not in any stored byte', async () => {
    // An id long enough that random ciphertext or random item names cannot hold it by chance ('c1', two
    // characters, was in a random item name about one run in forty).
    const id = 'conversation-id-3f9c';
    const t = setup(new Map([[id, [record(id, 0)]]]));
    await t.writer.runNow();
    const all = Buffer.concat([...t.sink.items.values()].map((d) => Buffer.from(d)));
    for (const s of ['Alice Example', `Conversation ${id}`, 'message 0', 'IDENTITY-SECRET-MATERIAL', id]) expect(all.indexOf(Buffer.from(s))).toBe(-1);
    expect([...t.sink.items.keys()].join()).not.toContain(id);
  });

  it('shows a refusal over quota, and keeps the ledger so nothing is thought uploaded', async () => {
    const t = setup(new Map([['c1', [record('c1', 0)]]]));
    t.sink.maxBytes = 1500;
    await expect(t.writer.runNow()).rejects.toThrow(RelayApiError);
    expect(t.statuses.at(-1)?.state).toBe('quota');
    expect(t.ledger.value).toBeUndefined();
  });

  it('a new recovery key writes the whole backup under it, then deletes the old one', async () => {
    const history = new Map([['c1', [record('c1', 0)]]]);
    const old = setup(history);
    await old.writer.runNow();
    const next = setup(history);
    const writer = new BackupWriter(next.keys, next.sink, old.inp, tickets, old.ledger);
    await moveBackup(old.sink, writer, old.ledger);
    expect(old.sink.items.size).toBe(0);
    expect(next.sink.items.size).toBe(2);
    await expect(openManifest(old.keys, old.sink)).rejects.toThrow(RestoreRefusedError);
    expect((await openManifest(next.keys, next.sink)).displayName).toBe('Alice Example');
  });
});

describe('backup file', () => {
  it('holds the same sealed items and restores without the relay; another key finds nothing', async () => {
    const t = setup(new Map([['c1', [record('c1', 0)]]]));
    await t.writer.runNow();
    const file = BackupFile.read(encodeBackupFile(t.keys.backupId, t.sink.items as Map<ItemName, Uint8Array>));
    expect((await openManifest(t.keys, file.sourceFor(t.keys.backupId))).displayName).toBe('Alice Example');
    const other = deriveBackupKeys(generateRecoverySecret());
    await expect(openManifest(other, file.sourceFor(other.backupId))).rejects.toMatchObject({ reason: 'no_backup' });
    for (const bad of ['', '{}', '[]', JSON.stringify({ format: 'microchat-backup', v: 1, backupId: 'x', items: [] })]) {
      expect(() => BackupFile.read(new TextEncoder().encode(bad))).toThrow(BackupFileError);
    }
  });
});

describe('restore job', () => {
  async function backedUp() {
    const history = new Map([
      ['c1', [record('c1', 0), record('c1', 1)]],
      ['c2', [record('c2', 0)]],
      ['c-none', [record('c-none', 0)]],
    ]);
    const t = setup(history);
    await t.writer.runNow();
    return t;
  }

  it('a typo or a wrong key is refused before anything is written', async () => {
    const t = await backedUp();
    const tg = targets();
    const jobs = memory<RestoreJob>();
    const restore = new Restore({ source: t.sink, targets: tg, rejoiner: { rejoin: async () => {} }, jobs });
    const typo = t.typed.slice(0, -1) + (t.typed.endsWith('0') ? '1' : '0');
    await expect(restore.start(typo)).rejects.toThrow(RecoveryKeyError);
    await expect(restore.start(formatRecoveryKey(generateRecoverySecret()))).rejects.toMatchObject({ reason: 'no_backup' });
    expect(tg.calls).toBe(0);
    expect(jobs.value).toBeUndefined();
  });

  it('brings back identity, settings and history, and rejoins each conversation (one without material says why)', async () => {
    const t = await backedUp();
    const tg = targets();
    const rejoined: [string, string][] = [];
    const progress: RestoreJob[] = [];
    const restore = new Restore({
      source: t.sink,
      targets: tg,
      rejoiner: { rejoin: async (id, ticket) => void rejoined.push([id, new TextDecoder().decode(ticket)]) },
      jobs: memory(),
      onProgress: (j) => progress.push(j),
    });
    const job = await restore.start(t.typed.toLowerCase());
    expect(new TextDecoder().decode(tg.identity)).toBe('IDENTITY-SECRET-MATERIAL');
    expect(tg.account).toEqual(['Alice Example', SETTINGS]);
    expect(tg.history.map((r) => r.id).sort()).toEqual(['c-none-m0', 'c1-m0', 'c1-m1', 'c2-m0']);
    expect(rejoined).toEqual([
      ['c1', 'ticket-c1'],
      ['c2', 'ticket-c2'],
    ]);
    expect(job.phase).toBe('done');
    expect(job.secret).toBe('');
    expect(job.conversations.find((c) => c.id === 'c-none')).toMatchObject({ state: 'failed', reason: 'no_material' });
    expect(progress.some((p) => p.phase === 'rejoin' && p.conversations.some((c) => c.state === 'pending'))).toBe(true);
  });

  it('a refused rejoin is marked with its reason; offline leaves it pending for the resume', async () => {
    const t = await backedUp();
    const jobs = memory<RestoreJob>();
    let online = false;
    const restore = new Restore({
      source: t.sink,
      targets: targets(),
      rejoiner: {
        rejoin: async (id) => {
          if (id === 'c1') throw new Error('removed');
          if (!online) throw new RelayApiError(0, 'unreachable', 'offline');
        },
      },
      jobs,
      whyNot: (err) => (err instanceof RelayApiError ? 'offline' : 'refused'),
    });
    await expect(restore.start(t.typed)).rejects.toThrow(RelayApiError);
    expect(jobs.value?.conversations.map((c) => [c.id, c.state, c.reason])).toEqual([
      ['c1', 'failed', 'refused'],
      ['c2', 'pending', undefined],
      ['c-none', 'pending', undefined],
    ]);
    online = true;
    const done = await restore.resume();
    expect(done?.conversations.map((c) => c.state)).toEqual(['failed', 'rejoined', 'failed']);
  });

  it('a worker stopped mid-restore resumes from the saved job: nothing done twice, nothing skipped', async () => {
    const t = await backedUp();
    const jobs = memory<RestoreJob>();
    const tg = targets();
    const calls: string[] = [];
    let killAt: string | undefined = 'c2';
    const rejoiner = {
      rejoin: async (id: string) => {
        if (id === killAt) throw new Error('worker killed');
        calls.push(id);
      },
    };
    // The "kill": the rejoiner throws past the job (no whyNot mapping applies to a dead worker), so we
    // stop the first Restore by making its save fail right after c1 is marked.
    let saves = 0;
    const dying: Persisted<RestoreJob> = {
      load: jobs.load,
      clear: jobs.clear,
      save: async (j) => {
        await jobs.save(j);
        if (j.conversations[0]!.state === 'rejoined' && ++saves === 1) throw new Error('worker killed');
      },
    };
    await expect(new Restore({ source: t.sink, targets: tg, rejoiner, jobs: dying }).start(t.typed)).rejects.toThrow('worker killed');
    expect(jobs.value?.phase).toBe('rejoin');
    killAt = undefined;
    const done = await new Restore({ source: t.sink, targets: tg, rejoiner, jobs }).resume();
    expect(done?.phase).toBe('done');
    expect(calls).toEqual(['c1', 'c2']);
    expect(await new Restore({ source: t.sink, targets: tg, rejoiner, jobs: memory() }).resume()).toBeUndefined();
  });
});

describe('rejoin failures', () => {
  it('sorts a refusal, being offline and anything else', async () => {
    const { rejoinFailure } = await import('../../lib/background/backup/restore.ts');
    expect(rejoinFailure(new RelayApiError(0, 'unreachable', 'offline'))).toBe('offline');
    expect(rejoinFailure(new RelayApiError(404, 'not_found', 'gone'))).toBe('refused');
    expect(rejoinFailure(new Error('a bug'))).toBe('error');
  });
});
