/**
 * Delivery and read receipts (lib/background/receipts.ts, the 'receipt' app
 * message): the strict codec, batching, and when a message counts as
 * delivered or read.
 */
import { describe, expect, it } from 'vitest';
import { encodeAppMessage, parseAppMessage, type AppMessage } from '../../lib/background/app-messages.ts';
import {
  addDue,
  applyReceipt,
  deliveryOf,
  isDueEmpty,
  MAX_RECEIPT_IDS,
  newReceiptState,
  takeBatch,
  withoutBatch,
  type ReceiptState,
} from '../../lib/background/receipts.ts';

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const ids = (n: number, p = 'm'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);
const receipt = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ v: 1, t: 'receipt', id: 'r1', at: 5, delivered: ['a'], read: ['b'], ...over });

describe('receipt codec', () => {
  it('round-trips a receipt', () => {
    const m: AppMessage = { v: 1, t: 'receipt', id: 'r1', at: 10, delivered: ids(3), read: ids(2, 'x') };
    expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
  });

  it('takes the largest receipt allowed, in either list', () => {
    expect(parseAppMessage(enc(receipt({ delivered: ids(MAX_RECEIPT_IDS), read: [] })))).not.toBeNull();
    expect(parseAppMessage(enc(receipt({ delivered: ids(100), read: ids(MAX_RECEIPT_IDS - 100, 'r') })))).not.toBeNull();
  });

  it.each([
    ['an empty receipt', { delivered: [], read: [] }],
    ['too many ids', { delivered: ids(MAX_RECEIPT_IDS), read: ['zz'] }],
    ['too many ids in one list', { delivered: ids(MAX_RECEIPT_IDS + 1), read: [] }],
    ['an id twice in one list', { delivered: ['a', 'a'], read: [] }],
    ['an id in both lists', { delivered: ['a'], read: ['a'] }],
    ['an id that is not one', { delivered: ['no spaces'], read: [] }],
    ['an over-long id', { delivered: ['a'.repeat(65)], read: [] }],
    ['a number for an id', { delivered: [7], read: [] }],
    ['a missing list', { read: undefined }],
    ['a list that is an object', { delivered: { 0: 'a' } }],
    ['a string for a list', { delivered: 'a' }],
  ])('rejects %s', (_, over) => {
    expect(parseAppMessage(enc(receipt(over)))).toBeNull();
  });
});

describe('delivered and read', () => {
  const members = new Set(['bob', 'carol', 'alice']);
  const start = (): ReceiptState => newReceiptState(['bob', 'carol']);

  it('is only "sent" until every member it was sent to has it', () => {
    let r = start();
    expect(deliveryOf(r)).toBeUndefined();
    r = applyReceipt(r, 'bob', 'delivered', members)!;
    expect(deliveryOf(r)).toBeUndefined();
    r = applyReceipt(r, 'carol', 'delivered', members)!;
    expect(deliveryOf(r)).toBe('delivered');
  });

  it('is read when every member has read it; a read counts as delivered', () => {
    let r = applyReceipt(start(), 'bob', 'read', members)!;
    expect(deliveryOf(r)).toBeUndefined();
    r = applyReceipt(r, 'carol', 'delivered', members)!;
    expect(deliveryOf(r)).toBe('delivered');
    r = applyReceipt(r, 'carol', 'read', members)!;
    expect(deliveryOf(r)).toBe('read');
  });

  it('a later "delivered" from someone who read it changes nothing', () => {
    const r = applyReceipt(start(), 'bob', 'read', members)!;
    expect(applyReceipt(r, 'bob', 'delivered', members)).toBeNull();
    expect(applyReceipt(r, 'bob', 'read', members)).toBeNull();
  });

  it('V-RCPT-2: a member who joined after the message was sent is not counted', () => {
    const r = start();
    expect(applyReceipt(r, 'dave', 'delivered', new Set([...members, 'dave']))).toBeNull();
  });

  it('V-RCPT-3: a member who has been removed is not counted', () => {
    expect(applyReceipt(start(), 'carol', 'read', new Set(['alice', 'bob']))).toBeNull();
  });

  it('a message sent when nobody else was there stays "sent"', () => {
    expect(deliveryOf(newReceiptState([]))).toBeUndefined();
    expect(deliveryOf(undefined)).toBeUndefined();
  });
});

describe('batching', () => {
  it('gathers a burst of 50 deliveries into one receipt', () => {
    let due = undefined;
    for (const id of ids(50)) due = addDue(due, 'delivered', [id]);
    const batch = takeBatch(due!);
    expect(batch.delivered).toHaveLength(50);
    expect(withoutBatch(due, batch)).toBeUndefined();
  });

  it('a read replaces the delivery of the same message, and a delivery never downgrades a read', () => {
    let due = addDue(undefined, 'delivered', ['a', 'b']);
    due = addDue(due, 'read', ['a']);
    expect(due).toEqual({ delivered: ['b'], read: ['a'] });
    expect(addDue(due, 'delivered', ['a'])).toEqual(due);
  });

  it('splits more than fits into several receipts, reads first', () => {
    const due = addDue(addDue(undefined, 'delivered', ids(150)), 'read', ids(100, 'r'));
    const first = takeBatch(due);
    expect(first.read).toHaveLength(100);
    expect(first.delivered).toHaveLength(MAX_RECEIPT_IDS - 100);
    const rest = withoutBatch(due, first)!;
    expect(rest.delivered).toHaveLength(50);
    expect(rest.read).toHaveLength(0);
    expect(withoutBatch(rest, takeBatch(rest))).toBeUndefined();
  });

  it('keeps what became due while a receipt was going out, and a read that follows a sent delivery', () => {
    const sent = takeBatch(addDue(undefined, 'delivered', ['a']));
    const meanwhile = addDue(addDue(addDue(undefined, 'delivered', ['a']), 'delivered', ['c']), 'read', ['a']);
    expect(withoutBatch(meanwhile, sent)).toEqual({ delivered: ['c'], read: ['a'] });
    expect(isDueEmpty(undefined)).toBe(true);
    expect(isDueEmpty({ delivered: [], read: [] })).toBe(true);
  });
});
