/**
 * The secret tree (RFC 9420 §9): per-epoch tree of secrets rooted at the
 * `encryption_secret`, whose leaves seed each member's handshake and
 * application hash ratchets, plus the sender-data key/nonce (§6.3.2).
 *
 *         encryption_secret (root)
 *            /          \
 *   ExpandWithLabel(., "tree", "left"/"right", Nh)      §9
 *          ...            ...
 *         leaf L
 *          ├─ ExpandWithLabel(., "handshake", "", Nh)  = handshake_ratchet_secret_[L]_[0]
 *          └─ ExpandWithLabel(., "application", "", Nh) = application_ratchet_secret_[L]_[0]
 *
 *   ratchet_secret_[j] ─┬─ DeriveTreeSecret(., "nonce", j, Nn)
 *                       ├─ DeriveTreeSecret(., "key", j, Nk)
 *                       └─ DeriveTreeSecret(., "secret", j, Nh) = ratchet_secret_[j+1]   §9.1
 *
 * Derivation is lazy: only the nodes on the path from the root to a leaf are
 * derived, and only when that leaf's ratchets are first needed, so an epoch in
 * a group of N members costs O(log N) per active sender, never O(N).
 *
 * Deletion schedule (§9.2): a parent secret is deleted as soon as its children
 * are derived, a leaf secret once its two ratchets exist, and a ratchet secret
 * once the next one is derived; a key/nonce is deleted once it is used. Keys of
 * skipped generations (out-of-order delivery) are retained up to a bound and
 * deleted when used or evicted; a generation already used, or deleted, is
 * rejected (replay protection).
 *
 * Receivers get a key in two steps — `prepareKey` then `commit()` after the
 * AEAD has authenticated the message — so a forged message cannot burn a
 * legitimate key (§9.2 counts a key as consumed on *successful* decryption).
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { deriveTreeSecret, expandWithLabel } from './crypto-ops.ts';
import { UsageError, ValidationError } from '../errors.ts';
import {
  type LeafIndex,
  type NodeIndex,
  isLeaf,
  left,
  level,
  right,
  root,
  toNodeIndex,
} from '../tree/tree-math.ts';

export type RatchetKind = 'handshake' | 'application';

export interface SecretTreeOptions {
  /**
   * How many generations a receiver may ratchet forward past the next expected
   * one in a single message (bounds the work a hostile generation can cause).
   */
  maxForwardSkip?: number;
  /** How many keys of skipped generations to retain per ratchet for out-of-order messages. */
  maxRetainedKeys?: number;
}

export const DEFAULT_MAX_FORWARD_SKIP = 1024;
export const DEFAULT_MAX_RETAINED_KEYS = 128;
const MAX_GENERATION = 0xffffffff;

export interface RatchetKey {
  readonly generation: number;
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
}

/** A receiver's key for one generation; `commit()` marks it consumed (after successful decryption). */
export interface PreparedKey extends RatchetKey {
  commit(): void;
}

const utf8 = new TextEncoder();
const LEFT = utf8.encode('left');
const RIGHT = utf8.encode('right');
const EMPTY = new Uint8Array(0);

function wipe(b: Uint8Array | undefined): void {
  b?.fill(0);
}

/**
 * Node secrets handed to a clone: both trees hold the same buffer, so neither
 * may wipe it when it consumes the node (the other may still need it). The
 * buffer goes away with the last tree referring to it.
 */
const sharedSecrets = new WeakSet<Uint8Array>();

/** One symmetric hash ratchet (§9.1). */
class HashRatchet {
  /** Generation whose ratchet secret is `secret`: the next one not yet derived. */
  private generation = 0;
  private secret: Uint8Array;
  /** Key/nonce of skipped, not yet used generations (< `generation`), oldest first. */
  private readonly retained = new Map<number, { key: Uint8Array; nonce: Uint8Array }>();

  constructor(
    private readonly cs: CipherSuite,
    secret: Uint8Array,
    private readonly maxForwardSkip: number,
    private readonly maxRetained: number,
  ) {
    this.secret = secret;
  }

  private keyNonce(secret: Uint8Array, j: number): { key: Uint8Array; nonce: Uint8Array } {
    return {
      key: deriveTreeSecret(this.cs, secret, 'key', j, this.cs.aead.keySize),
      nonce: deriveTreeSecret(this.cs, secret, 'nonce', j, this.cs.aead.nonceSize),
    };
  }

  private nextSecret(secret: Uint8Array, j: number): Uint8Array {
    return deriveTreeSecret(this.cs, secret, 'secret', j, this.cs.kdf.size);
  }

  /** Sender side: the next generation's key, consumed immediately. */
  next(): RatchetKey {
    const j = this.generation;
    if (j > MAX_GENERATION) throw new UsageError('sender ratchet exhausted (generation above 2^32-1)');
    const kn = this.keyNonce(this.secret, j);
    const nextSecret = this.nextSecret(this.secret, j);
    wipe(this.secret);
    this.secret = nextSecret;
    this.generation = j + 1;
    return { generation: j, ...kn };
  }

  /** Receiver side: the key for `g`, not consumed until `commit()`. */
  prepare(g: number): PreparedKey {
    if (!Number.isInteger(g) || g < 0 || g > MAX_GENERATION) {
      throw new ValidationError('V-ST-5', `generation ${g} is not a uint32`);
    }
    if (g < this.generation) {
      const kn = this.retained.get(g);
      // V-ST-2 (§9.2, §6.3.2): a key is used once; a used or deleted generation is rejected.
      if (kn === undefined) {
        throw new ValidationError('V-ST-2', `generation ${g} was already used or its key was deleted`);
      }
      return {
        generation: g,
        key: kn.key.slice(),
        nonce: kn.nonce.slice(),
        commit: () => {
          const cur = this.retained.get(g);
          if (cur === undefined) throw new ValidationError('V-ST-2', `generation ${g} was already used`);
          this.retained.delete(g);
          wipe(cur.key);
          wipe(cur.nonce);
        },
      };
    }
    // V-ST-3: bounded forward skip (local policy; the RFC lets members choose, §9.2).
    if (g - this.generation > this.maxForwardSkip) {
      throw new ValidationError(
        'V-ST-3',
        `generation ${g} is ${g - this.generation} ahead of the next expected ${this.generation} (limit ${this.maxForwardSkip})`,
      );
    }
    const start = this.generation;
    const startSecret = this.secret;
    const skipped: Array<[number, { key: Uint8Array; nonce: Uint8Array }]> = [];
    let secret = startSecret;
    for (let j = start; j < g; j++) {
      // Only the newest `maxRetained` skipped keys would survive eviction; skip deriving the rest.
      if (g - j <= this.maxRetained) skipped.push([j, this.keyNonce(secret, j)]);
      const s = this.nextSecret(secret, j);
      if (secret !== startSecret) wipe(secret);
      secret = s;
    }
    const kn = this.keyNonce(secret, g);
    const after = this.nextSecret(secret, g);
    if (secret !== startSecret) wipe(secret);
    let done = false;
    return {
      generation: g,
      key: kn.key,
      nonce: kn.nonce,
      commit: () => {
        if (done || this.generation !== start || this.secret !== startSecret) {
          throw new ValidationError('V-ST-2', `ratchet moved since generation ${g} was prepared`);
        }
        done = true;
        wipe(this.secret);
        this.secret = after;
        this.generation = g + 1;
        for (const [j, v] of skipped) this.retained.set(j, v);
        this.evict();
      },
    };
  }

  private evict(): void {
    while (this.retained.size > this.maxRetained) {
      const oldest = this.retained.keys().next().value as number;
      const v = this.retained.get(oldest)!;
      wipe(v.key);
      wipe(v.nonce);
      this.retained.delete(oldest);
    }
  }

  /** Generations retained for out-of-order delivery (for tests and diagnostics). */
  retainedGenerations(): number[] {
    return [...this.retained.keys()];
  }

  get nextGeneration(): number {
    return this.generation;
  }

  /** An independent deep copy (copy-on-write of a cloned tree's leaf). */
  copy(): HashRatchet {
    const r = new HashRatchet(this.cs, this.secret.slice(), this.maxForwardSkip, this.maxRetained);
    r.generation = this.generation;
    for (const [g, kn] of this.retained) r.retained.set(g, { key: kn.key.slice(), nonce: kn.nonce.slice() });
    return r;
  }

  /** Copy of the ratchet's state (persistence, copy-on-write; added for the group layer). */
  toState(): HashRatchetState {
    return {
      generation: this.generation,
      secret: this.secret.slice(),
      retained: [...this.retained].map(([g, kn]) => [g, kn.key.slice(), kn.nonce.slice()] as const),
    };
  }

  static fromState(cs: CipherSuite, s: HashRatchetState, maxForwardSkip: number, maxRetained: number): HashRatchet {
    // Stored state is checked like input: a corrupt store must not yield a ratchet that reuses keys.
    if (!Number.isInteger(s.generation) || s.generation < 0 || s.generation > MAX_GENERATION + 1) {
      throw new UsageError(`stored ratchet generation ${s.generation} is invalid`);
    }
    if (s.secret.length !== cs.kdf.size) throw new UsageError('stored ratchet secret has the wrong length');
    let prev = -1;
    for (const [g, key, nonce] of s.retained) {
      if (!Number.isInteger(g) || g <= prev || g >= s.generation) {
        throw new UsageError('stored retained generations must be increasing and below the ratchet position');
      }
      if (key.length !== cs.aead.keySize || nonce.length !== cs.aead.nonceSize) {
        throw new UsageError('stored retained key/nonce has the wrong length');
      }
      prev = g;
    }
    const r = new HashRatchet(cs, s.secret.slice(), maxForwardSkip, maxRetained);
    r.generation = s.generation;
    for (const [g, key, nonce] of s.retained) r.retained.set(g, { key: key.slice(), nonce: nonce.slice() });
    return r;
  }

  destroy(): void {
    wipe(this.secret);
    for (const v of this.retained.values()) {
      wipe(v.key);
      wipe(v.nonce);
    }
    this.retained.clear();
  }
}

/** Plain-data state of one hash ratchet (see `SecretTree.toState`). */
export interface HashRatchetState {
  /** Next generation not yet derived; `secret` is its ratchet secret. */
  readonly generation: number;
  readonly secret: Uint8Array;
  /** Retained [generation, key, nonce] of skipped generations, oldest first. */
  readonly retained: readonly (readonly [number, Uint8Array, Uint8Array])[];
}

/** Plain-data state of a secret tree, for persistence and copying. */
export interface SecretTreeState {
  readonly nLeaves: number;
  readonly maxForwardSkip: number;
  readonly maxRetainedKeys: number;
  /** Unconsumed tree-node secrets by node index. */
  readonly nodes: readonly (readonly [number, Uint8Array])[];
  readonly leaves: readonly (readonly [number, { readonly handshake: HashRatchetState; readonly application: HashRatchetState }])[];
}

interface LeafRatchets {
  handshake: HashRatchet;
  application: HashRatchet;
}

export class SecretTree {
  /** Unconsumed tree-node secrets: the frontier of lazy derivation. */
  private readonly nodes = new Map<number, Uint8Array>();
  private readonly leaves = new Map<number, LeafRatchets>();
  /**
   * Leaves whose ratchets this tree alone holds. `clone()` shares the ratchet
   * objects and clears this set on both sides; whichever tree next moves a
   * shared leaf's ratchet copies that leaf first (copy-on-write), so a clone
   * costs references, not a deep copy of every ratchet and retained key.
   */
  private readonly ownedLeaves = new Set<number>();
  private readonly maxForwardSkip: number;
  private readonly maxRetained: number;
  private readonly rootIndex: NodeIndex;

  /**
   * @param encryptionSecret copied; the caller should delete its own copy (§9.2).
   * @param nLeaves leaf count of the ratchet tree (a power of two).
   */
  constructor(
    private readonly cs: CipherSuite,
    encryptionSecret: Uint8Array,
    readonly nLeaves: number,
    options: SecretTreeOptions = {},
  ) {
    if (encryptionSecret.length !== cs.kdf.size) {
      throw new UsageError(`encryption_secret must be ${cs.kdf.size} bytes`);
    }
    this.rootIndex = root(nLeaves);
    this.maxForwardSkip = options.maxForwardSkip ?? DEFAULT_MAX_FORWARD_SKIP;
    this.maxRetained = options.maxRetainedKeys ?? DEFAULT_MAX_RETAINED_KEYS;
    if (!Number.isInteger(this.maxForwardSkip) || this.maxForwardSkip < 0) throw new UsageError('bad maxForwardSkip');
    if (!Number.isInteger(this.maxRetained) || this.maxRetained < 0) throw new UsageError('bad maxRetainedKeys');
    this.nodes.set(this.rootIndex, encryptionSecret.slice());
  }

  /** The ratchets of `leaf`, deriving the path from the nearest stored ancestor on first use. */
  private ratchets(leaf: LeafIndex): LeafRatchets {
    // V-ST-1: the sender's leaf index must lie inside the tree (§6.3.2 sender data is untrusted).
    if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this.nLeaves) {
      throw new ValidationError('V-ST-1', `leaf ${leaf} outside a tree of ${this.nLeaves} leaves`);
    }
    const existing = this.leaves.get(leaf);
    if (existing !== undefined) return existing;

    const target = toNodeIndex(leaf);
    // Walk down from the root to the lowest stored ancestor-or-self of the target.
    let x = this.rootIndex;
    while (!this.nodes.has(x)) {
      if (isLeaf(x)) throw new UsageError(`secret of leaf ${leaf} was already consumed`);
      x = target < x ? left(x) : right(x);
    }
    // Derive downwards, keeping the off-path child and deleting each consumed parent.
    let secret = this.nodes.get(x)!;
    this.nodes.delete(x);
    const wipeOwned = (b: Uint8Array): void => {
      if (!sharedSecrets.has(b)) wipe(b);
    };
    while (level(x) > 0) {
      const l = left(x);
      const r = right(x);
      const ls = expandWithLabel(this.cs, secret, 'tree', LEFT, this.cs.kdf.size);
      const rs = expandWithLabel(this.cs, secret, 'tree', RIGHT, this.cs.kdf.size);
      wipeOwned(secret);
      if (target < x) {
        this.nodes.set(r, rs);
        secret = ls;
        x = l;
      } else {
        this.nodes.set(l, ls);
        secret = rs;
        x = r;
      }
    }
    const nh = this.cs.kdf.size;
    const r: LeafRatchets = {
      handshake: new HashRatchet(this.cs, expandWithLabel(this.cs, secret, 'handshake', EMPTY, nh), this.maxForwardSkip, this.maxRetained),
      application: new HashRatchet(this.cs, expandWithLabel(this.cs, secret, 'application', EMPTY, nh), this.maxForwardSkip, this.maxRetained),
    };
    wipeOwned(secret);
    this.leaves.set(leaf, r);
    this.ownedLeaves.add(leaf);
    return r;
  }

  /** `leaf`'s ratchets, copied first if shared with a clone (they are about to move). */
  private ownRatchets(leaf: LeafIndex): LeafRatchets {
    const r = this.ratchets(leaf);
    if (this.ownedLeaves.has(leaf)) return r;
    const own: LeafRatchets = { handshake: r.handshake.copy(), application: r.application.copy() };
    this.leaves.set(leaf, own);
    this.ownedLeaves.add(leaf);
    return own;
  }

  /**
   * Derive `leaf`'s ratchets now without consuming a generation (the first
   * use in an epoch walks down from the root). A sender calls it for its own
   * leaf while its signature is being computed, to overlap the two.
   */
  deriveLeaf(leaf: LeafIndex): void {
    this.ownRatchets(leaf);
  }

  /** Sender side: the next key/nonce of our own ratchet, consumed (§6.3.1). */
  nextKey(leaf: LeafIndex, kind: RatchetKind): RatchetKey {
    return this.ownRatchets(leaf)[kind].next();
  }

  /**
   * Receiver side: the key/nonce for `generation` of `leaf`'s ratchet. Call
   * `commit()` once the message decrypted; until then nothing is consumed.
   */
  prepareKey(leaf: LeafIndex, kind: RatchetKind, generation: number): PreparedKey {
    return this.ownRatchets(leaf)[kind].prepare(generation);
  }

  /** The key for `generation`, consumed now (tests, and callers that cannot defer). */
  consumeKey(leaf: LeafIndex, kind: RatchetKind, generation: number): RatchetKey {
    const p = this.prepareKey(leaf, kind, generation);
    p.commit();
    return { generation: p.generation, key: p.key, nonce: p.nonce };
  }

  /** Generations of `leaf`'s ratchet kept for out-of-order messages. */
  retainedGenerations(leaf: LeafIndex, kind: RatchetKind): number[] {
    return this.leaves.get(leaf)?.[kind].retainedGenerations() ?? [];
  }

  /** Number of tree-node secrets currently stored (lazy-derivation diagnostics). */
  get storedNodeSecrets(): number {
    return this.nodes.size;
  }

  /** Copy of the whole state (persistence; added for the group layer). Secrets are copied. */
  toState(): SecretTreeState {
    return {
      nLeaves: this.nLeaves,
      maxForwardSkip: this.maxForwardSkip,
      maxRetainedKeys: this.maxRetained,
      nodes: [...this.nodes].map(([x, s]) => [x, s.slice()] as const),
      leaves: [...this.leaves].map(
        ([leaf, r]) => [leaf, { handshake: r.handshake.toState(), application: r.application.toState() }] as const,
      ),
    };
  }

  /** Rebuild a tree from `toState()` output; the input is not retained. */
  static fromState(cs: CipherSuite, s: SecretTreeState): SecretTree {
    const t = new SecretTree(cs, new Uint8Array(cs.kdf.size), s.nLeaves, {
      maxForwardSkip: s.maxForwardSkip,
      maxRetainedKeys: s.maxRetainedKeys,
    });
    t.nodes.clear();
    const width = 2 * s.nLeaves - 1;
    for (const [x, secret] of s.nodes) {
      if (!Number.isInteger(x) || x < 0 || x >= width || t.nodes.has(x)) throw new UsageError(`stored node index ${x} is invalid`);
      if (secret.length !== cs.kdf.size) throw new UsageError('stored node secret has the wrong length');
      t.nodes.set(x, secret.slice());
    }
    for (const [leaf, r] of s.leaves) {
      if (!Number.isInteger(leaf) || leaf < 0 || leaf >= s.nLeaves || t.leaves.has(leaf)) {
        throw new UsageError(`stored leaf index ${leaf} is invalid`);
      }
      t.leaves.set(leaf, {
        handshake: HashRatchet.fromState(cs, r.handshake, t.maxForwardSkip, t.maxRetained),
        application: HashRatchet.fromState(cs, r.application, t.maxForwardSkip, t.maxRetained),
      });
      t.ownedLeaves.add(leaf);
    }
    return t;
  }

  /**
   * An independent copy: consuming keys in one does not affect the other
   * (copy-on-write states). Node secrets and leaf ratchets are shared, not
   * copied: node secrets are never modified in place (only wiped, which
   * `sharedSecrets` prevents) and shared ratchets are copied before they move.
   */
  clone(): SecretTree {
    const t = new SecretTree(this.cs, new Uint8Array(this.cs.kdf.size), this.nLeaves, {
      maxForwardSkip: this.maxForwardSkip,
      maxRetainedKeys: this.maxRetained,
    });
    t.nodes.clear();
    for (const [x, secret] of this.nodes) {
      sharedSecrets.add(secret);
      t.nodes.set(x, secret);
    }
    for (const [leaf, r] of this.leaves) t.leaves.set(leaf, r);
    this.ownedLeaves.clear();
    return t;
  }

  /** Wipe everything this tree alone holds (end of the epoch's retention period). */
  destroy(): void {
    for (const s of this.nodes.values()) if (!sharedSecrets.has(s)) wipe(s);
    this.nodes.clear();
    for (const [leaf, r] of this.leaves) {
      if (!this.ownedLeaves.has(leaf)) continue;
      r.handshake.destroy();
      r.application.destroy();
    }
    this.leaves.clear();
    this.ownedLeaves.clear();
  }
}

/**
 * §6.3.2 sender-data key and nonce:
 *   ciphertext_sample = ciphertext[0..KDF.Nh-1]
 *   sender_data_key   = ExpandWithLabel(sender_data_secret, "key",   ciphertext_sample, AEAD.Nk)
 *   sender_data_nonce = ExpandWithLabel(sender_data_secret, "nonce", ciphertext_sample, AEAD.Nn)
 */
export function senderDataKeyNonce(
  cs: CipherSuite,
  senderDataSecret: Uint8Array,
  ciphertext: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const sample = ciphertext.subarray(0, cs.kdf.size);
  return {
    key: expandWithLabel(cs, senderDataSecret, 'key', sample, cs.aead.keySize),
    nonce: expandWithLabel(cs, senderDataSecret, 'nonce', sample, cs.aead.nonceSize),
  };
}
