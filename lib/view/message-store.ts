/**
 * One conversation's message cache on the view side. Messages arrive from two
 * places — pages read with `messages.page` (older history, newest first load)
 * and live `messages` events (new messages, status changes) — in any order
 * and possibly twice. The store merges them by id and keeps them ordered by
 * seq, returning a fresh array on every change so a `$state.raw` holder sees
 * it. Appending newer or prepending older messages avoids a full re-sort.
 */
import type { MessageView } from '../protocol/channel.ts';

function bySeq(a: MessageView, b: MessageView): number {
  return a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class MessageStore {
  private list: MessageView[] = [];
  private readonly byId = new Map<string, MessageView>();

  get messages(): readonly MessageView[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  get oldestSeq(): number | undefined {
    return this.list[0]?.seq;
  }

  get newestSeq(): number | undefined {
    return this.list[this.list.length - 1]?.seq;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Merge messages in; the last copy of an id wins. Returns the new ordered list. */
  merge(incoming: readonly MessageView[]): MessageView[] {
    if (incoming.length === 0) return this.list;
    const fresh = new Map<string, MessageView>();
    for (const m of incoming) fresh.set(m.id, m);
    const batch = [...fresh.values()].sort(bySeq);
    const replaces = batch.some((m) => this.byId.has(m.id));
    const first = batch[0]!;
    const last = batch[batch.length - 1]!;
    const newest = this.list[this.list.length - 1];
    const oldest = this.list[0];

    let next: MessageView[];
    if (!replaces && (newest === undefined || bySeq(first, newest) > 0)) next = this.list.concat(batch);
    else if (!replaces && oldest !== undefined && bySeq(last, oldest) < 0) next = batch.concat(this.list);
    else if (replaces && batch.every((m) => this.byId.get(m.id)?.seq === m.seq)) {
      // Status changes only (sending → sent): same positions, new objects.
      next = this.list.map((m) => fresh.get(m.id) ?? m);
    } else {
      const all = new Map(this.byId);
      for (const m of batch) all.set(m.id, m);
      next = [...all.values()].sort(bySeq);
    }
    for (const m of batch) this.byId.set(m.id, m);
    this.list = next;
    return next;
  }

  /** Take out the messages with these seqs (expired: deleted by the background). Returns the new list and the ids that went. */
  removeSeqs(seqs: ReadonlySet<number>): { messages: MessageView[]; removed: string[] } {
    const removed = this.list.filter((m) => seqs.has(m.seq)).map((m) => m.id);
    if (removed.length === 0) return { messages: this.list, removed };
    for (const id of removed) this.byId.delete(id);
    this.list = this.list.filter((m) => !seqs.has(m.seq));
    return { messages: this.list, removed };
  }
}
