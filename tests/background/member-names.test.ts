// Member names: pseudonymous leaf identities, profiles bound to member ids,
// legacy name-identities, placeholders, and the tags that tell members with
// the same-looking name apart (also when one of them ground a key to share a
// tag prefix with the other).
import { describe, expect, it } from 'vitest';
import { encodeAppMessage, parseAppMessage } from '../../lib/background/app-messages.ts';
import { baseName, isPseudonym, labelMembers, labelText, nameKey, newPseudonym, placeholderName, type LabelledMember } from '../../lib/background/member-names.ts';
import { keyFingerprint, memberIdOf } from '../../lib/background/safety-code.ts';

const te = new TextEncoder();
let n = 0;
function member(identity: Uint8Array, opts: { self?: boolean; key?: Uint8Array } = {}): LabelledMember {
  const signatureKey = opts.key ?? new Uint8Array(32).map((_, i) => (i === 0 ? ++n : (n * 7 + i) & 0xff));
  return { memberId: memberIdOf(signatureKey), leaf: { signatureKey, credential: { credentialType: 1, identity } }, self: opts.self ?? false };
}

describe('pseudonyms', () => {
  it('are random, never text, and never a name-identity', () => {
    const a = newPseudonym();
    const b = newPseudonym();
    expect(isPseudonym(a)).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(isPseudonym(te.encode('Alice'))).toBe(false);
    expect(isPseudonym(te.encode('\0mc1' + 'x'.repeat(15)))).toBe(false);
  });
});

describe('labels', () => {
  it('uses the profile name, else an old name-identity, else a placeholder from the fingerprint', () => {
    const named = member(newPseudonym());
    const legacy = member(te.encode('  Bob  '));
    const unknown = member(newPseudonym());
    const labels = labelMembers([named, legacy, unknown], { [named.memberId]: 'Alice' }, 'Me');
    expect(labels.get(named.memberId)).toEqual({ displayName: 'Alice' });
    expect(labels.get(legacy.memberId)).toEqual({ displayName: 'Bob' });
    expect(labels.get(unknown.memberId)).toEqual({ displayName: placeholderName(unknown.leaf.signatureKey) });
    expect(placeholderName(unknown.leaf.signatureKey)).toBe(`Member ${keyFingerprint(unknown.leaf.signatureKey).slice(0, 5)}`);
    // A profile beats the legacy identity.
    expect(baseName(legacy.leaf, 'Robert')).toBe('Robert');
  });

  it('tags every member whose name reads the same, ourselves included, and nobody else', () => {
    const me = member(newPseudonym(), { self: true });
    const alice = member(newPseudonym());
    const mallory = member(newPseudonym());
    const bob = member(newPseudonym());
    const labels = labelMembers([me, alice, mallory, bob], { [alice.memberId]: 'Alice', [mallory.memberId]: 'ALICE ', [bob.memberId]: 'Bob' }, 'alice');
    for (const m of [me, alice, mallory]) {
      const l = labels.get(m.memberId)!;
      expect(l.tag).toBe(keyFingerprint(m.leaf.signatureKey).slice(0, 5));
    }
    expect(labels.get(bob.memberId)!.tag).toBeUndefined();
    expect(labelText(labels.get(alice.memberId))).toBe(`Alice · ${labels.get(alice.memberId)!.tag}`);
    expect(labelText(undefined)).toBe('Someone');
  });

  it('reads compatibility forms, case and spacing as the same name', () => {
    expect(nameKey('Ａｌｉｃｅ')).toBe(nameKey('alice'));
    expect(nameKey(' Mary  Ann ')).toBe(nameKey('mary ann'));
    expect(nameKey('Alice')).not.toBe(nameKey('Alicia'));
  });

  it('lengthens the tags until they differ when a key was ground to share the first digit group', () => {
    const alice = member(newPseudonym());
    const target = keyFingerprint(alice.leaf.signatureKey).slice(0, 5);
    // Grind a key whose fingerprint starts like Alice's (what a hostile member could do offline).
    let key = new Uint8Array(32);
    for (let i = 0; ; i++) {
      key = new Uint8Array(32);
      new DataView(key.buffer).setUint32(0, i);
      key[31] = 0xaa;
      if (keyFingerprint(key).slice(0, 5) === target) break;
    }
    const mallory = member(newPseudonym(), { key });
    const labels = labelMembers([alice, mallory], { [alice.memberId]: 'Alice', [mallory.memberId]: 'Alice' }, 'Me');
    const a = labels.get(alice.memberId)!.tag!;
    const m = labels.get(mallory.memberId)!.tag!;
    expect(a).not.toBe(m);
    expect(a.startsWith(target) && m.startsWith(target)).toBe(true);
    expect(a.split(' ')).toHaveLength(2);
  });

  it('tells a name apart from a placeholder that reads the same', () => {
    const unknown = member(newPseudonym());
    const copycat = member(newPseudonym());
    const labels = labelMembers([unknown, copycat], { [copycat.memberId]: placeholderName(unknown.leaf.signatureKey) }, 'Me');
    expect(labels.get(unknown.memberId)!.tag).toBeDefined();
    expect(labels.get(copycat.memberId)!.tag).toBeDefined();
    expect(labels.get(unknown.memberId)!.tag).not.toBe(labels.get(copycat.memberId)!.tag);
  });
});

describe('profile messages', () => {
  it('round-trip, trimmed, and refuse empty or oversize names', () => {
    const m = { v: 1, t: 'profile', id: 'abc', name: 'Alice', at: 5 } as const;
    expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
    expect(parseAppMessage(te.encode(JSON.stringify({ ...m, name: '  Al  ' })))).toEqual({ ...m, name: 'Al' });
    for (const name of ['   ', 'x'.repeat(65), 7]) expect(parseAppMessage(te.encode(JSON.stringify({ ...m, name })))).toBeNull();
    // Nothing in a profile can point at another member: extra fields are dropped, the sender is the MLS sender.
    expect(parseAppMessage(te.encode(JSON.stringify({ ...m, memberId: 'someone-else' })))).toEqual(m);
  });
});
