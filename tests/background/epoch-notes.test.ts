/**
 * System-message wording (lib/background/epoch-notes.ts) and the dialog texts
 * (lib/view/roles-text.ts): the actor is named right, "You" for our own
 * actions, and leaving, removal and ending each have their own words.
 */
import { describe, expect, it } from 'vitest';
import { ENDED_BY_YOU, removalNote, removedYouNote } from '../../lib/background/epoch-notes.ts';
import { endedBanner, endText, namesList } from '../../lib/view/roles-text.ts';

const alice = { id: 'a', label: 'Alice' };
const bob = { id: 'b', label: 'Bob' };
const carol = { id: 'c', label: 'Carol' };

describe('removal notes', () => {
  it('a leave is a leave, whoever committed it', () => {
    expect(removalNote(bob, bob, 'a')).toBe('Bob left.');
  });
  it('our own removal of someone says You; someone else\'s names them', () => {
    expect(removalNote(carol, alice, 'a')).toBe('You removed Carol.');
    expect(removalNote(carol, alice, 'b')).toBe('Alice removed Carol.');
    expect(removalNote(carol, undefined, 'b')).toBe('Carol was removed.');
  });
  it('being removed and the conversation ending read differently', () => {
    expect(removedYouNote(alice, false)).toBe('Alice removed you from this conversation.');
    expect(removedYouNote(alice, true)).toBe('Alice ended the conversation.');
    expect(removedYouNote(undefined, false)).toBe('Someone removed you from this conversation.');
    expect(ENDED_BY_YOU).toBe('You ended the conversation.');
  });
});

describe('dialog texts', () => {
  it('lists names the way a sentence does', () => {
    expect(namesList(['Bob'])).toBe('Bob');
    expect(namesList(['Bob', 'Carol'])).toBe('Bob and Carol');
    expect(namesList(['Bob', 'Carol', 'Dan'])).toBe('Bob, Carol and Dan');
    expect(namesList(['Bob', 'Carol', 'Dan', 'Eve'])).toBe('Bob, Carol and 2 others');
  });
  it('ending says who is removed and that it ends for everyone', () => {
    const m = (n: string) => ({ memberId: n, displayName: n, self: false, fingerprint: '' });
    expect(endText([m('Bob'), m('Carol')])).toMatch(/^Bob and Carol will be removed and the conversation ends for everyone\./);
    expect(endedBanner('You')).toBe('You ended this conversation for everyone.');
    expect(endedBanner('Alice')).toBe('Alice ended this conversation.');
  });
});
