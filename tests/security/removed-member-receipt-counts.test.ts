/**
 * Attack: a member's receipt arrives after that member was removed (a
 * retained past epoch still decrypts late application messages, §15.2), or
 * comes from someone who joined after the message was sent and never had it
 * in the group they were in. Either would make a message read as
 * "Delivered"/"Read" on the word of someone who is not a recipient.
 *
 * Defence: V-RCPT-2 (only the members the message was sent to) and V-RCPT-3
 * (only members still in the group when the receipt is processed).
 */
import { describe, expect, it } from 'vitest';
import { applyReceipt, deliveryOf, newReceiptState } from '../../lib/background/receipts.ts';

describe('receipts from people who are not recipients', () => {
  it('V-RCPT-3: a removed member\'s late receipt is not counted', () => {
    const sentTo = newReceiptState(['bob', 'mallory']);
    const bob = applyReceipt(sentTo, 'bob', 'read', new Set(['alice', 'bob', 'mallory']))!;
    // Mallory was removed; her receipt, decrypted in a retained epoch, comes now.
    expect(applyReceipt(bob, 'mallory', 'read', new Set(['alice', 'bob']))).toBeNull();
    expect(deliveryOf(bob)).toBeUndefined();
  });

  it('V-RCPT-2: a member who joined after the message was sent is not counted, and cannot stand in for a recipient', () => {
    const sentTo = newReceiptState(['bob']);
    expect(applyReceipt(sentTo, 'dave', 'delivered', new Set(['alice', 'bob', 'dave']))).toBeNull();
    expect(deliveryOf(sentTo)).toBeUndefined();
  });
});
