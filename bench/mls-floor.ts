/**
 * The floor of an MLS operation: the WebCrypto calls it cannot avoid (suite 1:
 * Ed25519, X25519, AES-128-GCM), made and timed in the same run as the
 * operation, so "ours / floor" says how much of our time is anything else (hashing, encoding, tree work, scheduling). Hashes, HMAC and
 * HKDF are not counted (we compute them in JavaScript; a floor of WebCrypto
 * calls is what the issue asks for). Environment-neutral: WebCrypto only.
 *
 * The calls are timed as one block per operation, in the same run as the
 * operation (see `measureFloor`).
 *
 * What each operation cannot avoid at group size N (creator A whose copath
 * is blank, RFC 9420 section numbers):
 *  - encrypt:        sign the content (§6.1), seal it (§6.3);
 *  - decrypt:        open it, verify the signature;
 *  - add_commit:     verify the KeyPackage and its leaf (§10.1), sign the
 *                    commit and the GroupInfo (§12.4.3), HPKE-seal the group
 *                    secrets to the joiner (§12.4.3.1), seal the GroupInfo;
 *  - process_add:    verify the commit, the KeyPackage and its leaf;
 *  - join_welcome:   HPKE-open the group secrets, open the GroupInfo, verify
 *                    it, and verify every leaf of the tree (§7.3, §12.4.3.1: N);
 *  - update_commit:  sign the new leaf and the commit, HPKE-seal a path secret
 *                    to each of the N-1 others (blank copath: every leaf is in
 *                    a resolution, §7.9);
 *  - process_update: verify the commit and the new leaf, HPKE-open one path secret.
 * An HPKE seal is an ephemeral X25519 key pair (generate, export), one
 * X25519 derivation and an AES-GCM seal (key import, encrypt); an open is a
 * derivation and an AES-GCM open. Recipient public keys are imported once
 * per key (they can be cached across commits), so they are not counted.
 */
import { median } from './timing.ts';

/** The kinds of call counted (an HPKE seal or open is several WebCrypto calls, see the header). */
type CallKind = 'sign' | 'verify' | 'hpkeSeal' | 'hpkeOpen' | 'aes';

type Recipe = Partial<Record<CallKind, number>>;

/** The calls `operation` cannot avoid at group size `n` (see the header). */
export function recipe(operation: string, n: number): Recipe {
  switch (operation) {
    case 'encrypt':
      return { sign: 1, aes: 1 };
    case 'decrypt':
      return { verify: 1, aes: 1 };
    case 'add_commit':
      return { verify: 2, sign: 2, hpkeSeal: 1, aes: 1 };
    case 'process_add':
      return { verify: 3 };
    case 'join_welcome':
      return { hpkeOpen: 1, aes: 1, verify: 1 + n };
    case 'update_commit':
      return { sign: 2, hpkeSeal: n - 1 };
    case 'process_update':
      return { verify: 2, hpkeOpen: 1 };
    default:
      throw new Error(`no floor recipe for ${operation}`);
  }
}

/** Runs `fn` `runs` times after one warm-up; the median ms. */
async function medianOf(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

/** One kind of call, ready to make (keys imported beforehand). */
type Calls = Record<CallKind, () => Promise<unknown>>;

async function prepareCalls(): Promise<Calls> {
  const subtle = globalThis.crypto.subtle;
  const ed = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const edPublic = new Uint8Array(await subtle.exportKey('raw', ed.publicKey));
  const x = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const message = new Uint8Array(200).fill(7);
  const signature = await subtle.sign({ name: 'Ed25519' }, ed.privateKey, message);
  const keyBytes = new Uint8Array(16).fill(1);
  const nonce = new Uint8Array(12);
  const secret = new Uint8Array(32).fill(3);
  const aesKey = await subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const sealed = await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, aesKey, secret);
  const aesSeal = async (): Promise<void> => {
    const k = await subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['encrypt']);
    await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, k, secret);
  };
  const aesOpen = async (): Promise<void> => {
    const k = await subtle.importKey('raw', keyBytes, 'AES-GCM', false, ['decrypt']);
    await subtle.decrypt({ name: 'AES-GCM', iv: nonce }, k, sealed);
  };
  return {
    sign: () => subtle.sign({ name: 'Ed25519' }, ed.privateKey, message),
    // A leaf's key is new to the verifier: import it, then verify.
    verify: async () => {
      const k = await subtle.importKey('raw', edPublic, { name: 'Ed25519' }, false, ['verify']);
      await subtle.verify({ name: 'Ed25519' }, k, signature, message);
    },
    hpkeSeal: async () => {
      const eph = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
      await subtle.exportKey('raw', eph.publicKey);
      await subtle.deriveBits({ name: 'X25519', public: x.publicKey }, eph.privateKey, 256);
      await aesSeal();
    },
    hpkeOpen: async () => {
      await subtle.deriveBits({ name: 'X25519', public: x.publicKey }, x.privateKey, 256);
      await aesOpen();
    },
    aes: aesSeal,
  };
}

let calls: Promise<Calls> | undefined;

/**
 * The floor of an operation whose unavoidable calls are `r`: all of them made
 * at once (Promise.all, the way our engine makes a commit's seals), timed as
 * one block, median of several runs. Timed as a block, not as unit costs
 * times counts: on a loaded machine a long block is preempted as often as the
 * operation it stands for, while the median of many tiny calls escapes that
 * (on this 2-core machine at load 8, 1,023 seals took ~0.4 s as a block but
 * 0.1 ms each as a median).
 */
export async function measureFloor(r: Recipe): Promise<number> {
  const c = await (calls ??= prepareCalls());
  const total = (Object.values(r) as number[]).reduce((a, b) => a + b, 0);
  const block = () => Promise.all((Object.keys(r) as (CallKind)[]).flatMap((k) => Array.from({ length: r[k] ?? 0 }, () => c[k]())));
  return medianOf(total > 100 ? 3 : 30, block);
}
