/**
 * The message history a link hands over (with the person's consent), over
 * this device's stored messages:
 *
 *   existing device  every stored text and system message of the active
 *                    conversations, oldest first per conversation, in pages
 *   new device       keeps each conversation's history sealed in `secrets`
 *                    under `link-history:<conversationId>` until it joins that
 *                    conversation by Welcome; the join path then takes it with
 *                    `takeLinkedHistory` and stores it before the first
 *                    message it can decrypt itself.
 *
 * Messages that never left (sending, failed) stay behind: they were never
 * part of the conversation.
 */
import type { ChatStore, MessageRecord } from '../chat-store.ts';
import type { Database } from '../db.ts';
import type { Vault } from '../vault.ts';
import type { HistoryPort, HistoryRecord } from './ports.ts';

const STORE = 'secrets';
const PREFIX = 'link-history:';
const READ_PAGE = 200;

function toRecord(m: MessageRecord): HistoryRecord | null {
  if (m.status === 'sending' || m.status === 'failed') return null;
  return { conversationId: m.conversationId, id: m.id, kind: m.kind, text: m.text, sender: { displayName: m.sender.displayName, self: m.sender.self }, sentAt: m.sentAt };
}

/** All of a conversation's kept messages, oldest first. */
export async function conversationHistory(store: ChatStore, conversationId: string): Promise<HistoryRecord[]> {
  const pages: MessageRecord[][] = [];
  let before: number | null = null;
  for (;;) {
    const { messages, more } = await store.page(conversationId, before, READ_PAGE);
    if (messages.length > 0) pages.unshift(messages);
    if (!more || messages.length === 0) break;
    before = messages[0]!.seq;
  }
  return pages.flat().flatMap((m) => toRecord(m) ?? []);
}

export function storedHistoryPort(db: Database, vault: Vault, store: ChatStore): HistoryPort {
  const activeIds = async (): Promise<string[]> => (await store.loadMetas()).filter((m) => m.status === 'active').map((m) => m.id);
  return {
    async count() {
      let n = 0;
      for (const id of await activeIds()) n += (await conversationHistory(store, id)).length;
      return n;
    },
    async *pages(pageSize) {
      for (const id of await activeIds()) {
        const all = await conversationHistory(store, id);
        for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
      }
    },
    async importPage(records) {
      const byConversation = new Map<string, HistoryRecord[]>();
      for (const r of records) byConversation.set(r.conversationId, [...(byConversation.get(r.conversationId) ?? []), r]);
      for (const [conversationId, page] of byConversation) {
        const key = PREFIX + conversationId;
        await vault.writing(async () => {
          const sealed = await db.get(STORE, key);
          const kept = sealed === undefined ? [] : await vault.openJson<HistoryRecord[]>(STORE, key, sealed);
          const ids = new Set(kept.map((r) => r.id));
          const next = [...kept, ...page.filter((r) => !ids.has(r.id))];
          await db.put(STORE, await vault.sealJson(STORE, key, next), key);
        });
      }
    },
  };
}

/** The history handed over for a conversation, oldest first (still kept: drop it once stored). */
export async function linkedHistory(db: Database, vault: Vault, conversationId: string): Promise<HistoryRecord[]> {
  const key = PREFIX + conversationId;
  const sealed = await db.get(STORE, key);
  if (sealed === undefined) return [];
  return vault.openJson<HistoryRecord[]>(STORE, key, sealed).catch(() => []);
}

export async function dropLinkedHistory(db: Database, conversationId: string): Promise<void> {
  await db.delete(STORE, PREFIX + conversationId);
}

/** The history handed over for a conversation this device just joined, oldest first; removed from the stash. */
export async function takeLinkedHistory(db: Database, vault: Vault, conversationId: string): Promise<HistoryRecord[]> {
  const records = await linkedHistory(db, vault, conversationId);
  await dropLinkedHistory(db, conversationId);
  return records;
}

/** Handed-over records as this device's messages of the conversation, numbered from `meta.nextSeq` on. */
export function historyMessages(meta: { id: string; nextSeq: number }, records: readonly HistoryRecord[]): MessageRecord[] {
  return records.map((r) => ({
    id: r.id,
    conversationId: meta.id,
    seq: meta.nextSeq++,
    kind: r.kind,
    text: r.text,
    sender: { memberId: '', displayName: r.sender.displayName, self: r.sender.self },
    sentAt: r.sentAt,
    status: r.sender.self ? 'sent' : 'received',
  }));
}
