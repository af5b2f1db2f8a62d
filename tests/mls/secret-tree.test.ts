// Secret tree behaviour beyond the vectors: lazy derivation, deletion schedule,
// bounded forward skip, retention of skipped generations, replay rejection.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '../../lib/bytes.ts';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { SecretTree } from '../../lib/mls/keys/secret-tree.ts';
import { leafIndex } from '../../lib/mls/tree/tree-math.ts';
import { ValidationError } from '../../lib/mls/errors.ts';

const cs = getCipherSuite(1);
const secret = new Uint8Array(32).fill(7);
const L = leafIndex;

function expectRule(fn: () => unknown, rule: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).rule).toBe(rule);
    return;
  }
  throw new Error(`expected ValidationError ${rule}`);
}

describe('SecretTree', () => {
  it('derives lazily: only the path to a used leaf (O(log N) secrets stored)', () => {
    const n = 1 << 20;
    const t = new SecretTree(cs, secret, n);
    expect(t.storedNodeSecrets).toBe(1);
    t.nextKey(L(12345), 'application');
    // One off-path sibling kept per level.
    expect(t.storedNodeSecrets).toBe(20);
    t.nextKey(L(12344), 'handshake');
    expect(t.storedNodeSecrets).toBe(19);
  });

  it('sender and receiver agree; sender generations advance', () => {
    const a = new SecretTree(cs, secret, 8);
    const b = new SecretTree(cs, secret, 8);
    for (let g = 0; g < 5; g++) {
      const k = a.nextKey(L(3), 'application');
      expect(k.generation).toBe(g);
      const r = b.consumeKey(L(3), 'application', g);
      expect(bytesToHex(r.key)).toBe(bytesToHex(k.key));
      expect(bytesToHex(r.nonce)).toBe(bytesToHex(k.nonce));
    }
    // Handshake and application ratchets are independent.
    expect(bytesToHex(a.nextKey(L(3), 'handshake').key)).toBe(bytesToHex(b.consumeKey(L(3), 'handshake', 0).key));
  });

  it('V-ST-2: a generation is usable once (replay rejected), including retained ones', () => {
    const t = new SecretTree(cs, secret, 4);
    t.consumeKey(L(1), 'application', 0);
    expectRule(() => t.prepareKey(L(1), 'application', 0), 'V-ST-2');
    t.consumeKey(L(1), 'application', 5); // skips 1..4
    expect(t.retainedGenerations(L(1), 'application')).toEqual([1, 2, 3, 4]);
    t.consumeKey(L(1), 'application', 3);
    expect(t.retainedGenerations(L(1), 'application')).toEqual([1, 2, 4]);
    expectRule(() => t.prepareKey(L(1), 'application', 3), 'V-ST-2');
    expectRule(() => t.prepareKey(L(1), 'application', 5), 'V-ST-2');
  });

  it('out-of-order keys equal in-order keys', () => {
    const a = new SecretTree(cs, secret, 2);
    const b = new SecretTree(cs, secret, 2);
    const sent = [0, 1, 2, 3].map(() => a.nextKey(L(0), 'handshake'));
    for (const g of [3, 0, 2, 1]) {
      expect(bytesToHex(b.consumeKey(L(0), 'handshake', g).key)).toBe(bytesToHex(sent[g]!.key));
    }
  });

  it('V-ST-3: forward skip is bounded', () => {
    const t = new SecretTree(cs, secret, 2, { maxForwardSkip: 10 });
    expectRule(() => t.prepareKey(L(0), 'application', 11), 'V-ST-3');
    t.consumeKey(L(0), 'application', 10);
    t.consumeKey(L(0), 'application', 21);
    expectRule(() => t.prepareKey(L(0), 'application', 33), 'V-ST-3');
  });

  it('V-ST-2: retention is bounded; evicted (deleted) generations are rejected', () => {
    const t = new SecretTree(cs, secret, 2, { maxRetainedKeys: 3 });
    t.consumeKey(L(0), 'application', 10);
    expect(t.retainedGenerations(L(0), 'application')).toEqual([7, 8, 9]);
    expectRule(() => t.prepareKey(L(0), 'application', 6), 'V-ST-2');
    t.consumeKey(L(0), 'application', 12);
    expect(t.retainedGenerations(L(0), 'application')).toEqual([8, 9, 11]);
  });

  it('prepareKey consumes nothing until commit (a forged message cannot burn a key)', () => {
    const t = new SecretTree(cs, secret, 2);
    const p = t.prepareKey(L(1), 'application', 4);
    // Not committed: the same generation is still available, and nothing was retained.
    expect(t.retainedGenerations(L(1), 'application')).toEqual([]);
    const p2 = t.prepareKey(L(1), 'application', 4);
    expect(bytesToHex(p2.key)).toBe(bytesToHex(p.key));
    p2.commit();
    expectRule(() => p.commit(), 'V-ST-2');
    expectRule(() => t.prepareKey(L(1), 'application', 4), 'V-ST-2');
  });

  it('V-ST-1: a leaf outside the tree is rejected; V-ST-5: generation must be a uint32', () => {
    const t = new SecretTree(cs, secret, 4);
    expectRule(() => t.prepareKey(L(4), 'application', 0), 'V-ST-1');
    expectRule(() => t.prepareKey(-1 as never, 'application', 0), 'V-ST-1');
    expectRule(() => t.prepareKey(L(0), 'application', 2 ** 32), 'V-ST-5');
    expectRule(() => t.prepareKey(L(0), 'application', 1.5), 'V-ST-5');
  });

  it('does not keep a reference to the caller\'s encryption_secret', () => {
    const s = secret.slice();
    const t = new SecretTree(cs, s, 2);
    const before = bytesToHex(new SecretTree(cs, secret, 2).nextKey(L(0), 'application').key);
    s.fill(0);
    expect(bytesToHex(t.nextKey(L(0), 'application').key)).toBe(before);
    expect(bytesToHex(secret)).toBe('07'.repeat(32));
  });

  it('toState/fromState round-trips; clone() is independent', () => {
    const t = new SecretTree(cs, secret, 8, { maxForwardSkip: 50, maxRetainedKeys: 4 });
    t.nextKey(L(2), 'application');
    t.consumeKey(L(5), 'handshake', 6);
    const copy = SecretTree.fromState(cs, t.toState());
    expect(copy.retainedGenerations(L(5), 'handshake')).toEqual([2, 3, 4, 5]);
    expect(copy.storedNodeSecrets).toBe(t.storedNodeSecrets);
    // Same keys from both afterwards.
    expect(bytesToHex(copy.consumeKey(L(5), 'handshake', 4).key)).toBe(bytesToHex(t.consumeKey(L(5), 'handshake', 4).key));
    expect(bytesToHex(copy.nextKey(L(7), 'application').key)).toBe(bytesToHex(t.nextKey(L(7), 'application').key));
    // A clone consumes independently of its original.
    const c = t.clone();
    c.consumeKey(L(5), 'handshake', 3);
    expectRule(() => c.prepareKey(L(5), 'handshake', 3), 'V-ST-2');
    expect(t.prepareKey(L(5), 'handshake', 3).generation).toBe(3);
  });

  it('property: clone() is copy-on-write: original and clones move independently and match deep copies', () => {
    type Op = { tree: number; leaf: number; kind: 'application' | 'handshake'; gen: number; send: boolean } | { clone: number };
    const op = fc.oneof(
      fc.record({ tree: fc.nat(3), leaf: fc.nat(7), kind: fc.constantFrom('application' as const, 'handshake' as const), gen: fc.nat(6), send: fc.boolean() }),
      fc.record({ clone: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops: Op[]) => {
        // Each cloned tree is shadowed by a deep copy made via toState/fromState.
        const trees = [new SecretTree(cs, secret, 8, { maxForwardSkip: 10, maxRetainedKeys: 3 })];
        const deep = [SecretTree.fromState(cs, trees[0]!.toState())];
        const outcome = (f: () => { key: Uint8Array; generation: number }): string => {
          try {
            const k = f();
            return `${k.generation}:${bytesToHex(k.key)}`;
          } catch (err) {
            return (err as ValidationError).rule;
          }
        };
        for (const o of ops) {
          if ('clone' in o) {
            const i = o.clone % trees.length;
            trees.push(trees[i]!.clone());
            deep.push(SecretTree.fromState(cs, deep[i]!.toState()));
            continue;
          }
          const i = o.tree % trees.length;
          const run = (t: SecretTree) => (o.send ? t.nextKey(L(o.leaf), o.kind) : t.consumeKey(L(o.leaf), o.kind, o.gen));
          expect(outcome(() => run(trees[i]!))).toBe(outcome(() => run(deep[i]!)));
        }
        for (let i = 0; i < trees.length; i++) expect(trees[i]!.toState()).toEqual(deep[i]!.toState());
      }),
      { numRuns: 100 },
    );
  });

  it('fromState rejects corrupt stored state', () => {
    const t = new SecretTree(cs, secret, 4);
    t.consumeKey(L(1), 'application', 3);
    const s = t.toState();
    const bad = [
      { ...s, nodes: [[7, secret]] as const },
      { ...s, nodes: [[0, new Uint8Array(5)]] as const },
      { ...s, leaves: [[4, s.leaves[0]![1]]] as const },
      { ...s, leaves: [[1, { ...s.leaves[0]![1], application: { ...s.leaves[0]![1].application, retained: [[5, new Uint8Array(16), new Uint8Array(12)]] as const } }]] as const },
      { ...s, leaves: [[1, { ...s.leaves[0]![1], handshake: { ...s.leaves[0]![1].handshake, secret: new Uint8Array(3) } }]] as const },
    ];
    for (const b of bad) expect(() => SecretTree.fromState(cs, b)).toThrow();
    expect(() => SecretTree.fromState(cs, s)).not.toThrow();
  });

  it('property: any delivery order within the retention bound yields the sender\'s keys, each once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n }))),
        fc.integer({ min: 0, max: 3 }),
        ([n, order], leaf) => {
          const a = new SecretTree(cs, secret, 4, { maxRetainedKeys: 32 });
          const b = new SecretTree(cs, secret, 4, { maxRetainedKeys: 32 });
          const sent = Array.from({ length: n }, () => bytesToHex(a.nextKey(L(leaf), 'application').key));
          for (const g of order) expect(bytesToHex(b.consumeKey(L(leaf), 'application', g).key)).toBe(sent[g]);
          for (const g of order) expectRule(() => b.prepareKey(L(leaf), 'application', g), 'V-ST-2');
          expect(b.retainedGenerations(L(leaf), 'application')).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
