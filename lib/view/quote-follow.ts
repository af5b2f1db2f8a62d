/**
 * A reply's quote shows its original as it is now (docs/rich-messages.md).
 * When the original changes (edited, deleted for everyone) the background
 * pushes the original again, not every reply quoting it: the replies this
 * view holds are brought up to date here, from the changed original, until
 * the next page read gives the background's own quotes.
 */
import type { MessageView } from '../protocol/channel.ts';
import type { QuoteView } from '../protocol/rich-messages.ts';

/** As long as the background's quote preview (lib/background/rich-record.ts QUOTE_LENGTH). */
const QUOTE_LENGTH = 120;

function quoteFrom(original: MessageView, old: QuoteView): QuoteView {
  const base = { messageId: old.messageId, seq: original.seq, senderName: old.senderName };
  if (original.deleted === true) return { ...base, text: '', deleted: true };
  const one = original.text.replace(/\s+/g, ' ').trim();
  return { ...base, text: one.length > QUOTE_LENGTH ? `${one.slice(0, QUOTE_LENGTH - 1)}…` : one };
}

/**
 * The cached replies whose quote names one of `changed` (edited or deleted
 * originals), with their quotes made again; empty when none does.
 */
export function followQuotes(cached: readonly MessageView[], changed: readonly MessageView[]): MessageView[] {
  const originals = new Map(changed.filter((m) => m.edited === true || m.deleted === true).map((m) => [m.id, m]));
  if (originals.size === 0) return [];
  const out: MessageView[] = [];
  for (const m of cached) {
    const original = m.quote === undefined ? undefined : originals.get(m.quote.messageId);
    if (original === undefined || m.quote === undefined) continue;
    const quote = quoteFrom(original, m.quote);
    if (quote.text !== m.quote.text || quote.deleted !== m.quote.deleted) out.push({ ...m, quote });
  }
  return out;
}

/**
 * The cached replies whose quote names one of these expired originals (by id, or by seq when
 * the id is not known here), with the quote the background gives a missing original: no text, no seq.
 */
export function forgetQuotes(cached: readonly MessageView[], ids: readonly string[], seqs: ReadonlySet<number>): MessageView[] {
  const out: MessageView[] = [];
  for (const m of cached) {
    const q = m.quote;
    if (q === undefined || !(ids.includes(q.messageId) || (q.seq !== undefined && seqs.has(q.seq)))) continue;
    out.push({ ...m, quote: { messageId: q.messageId, senderName: '', text: '', missing: true } });
  }
  return out;
}
