/**
 * Sealed-sender tokens: VOPRF (RFC 9497, ristretto255-SHA512, mode 0x01).
 *
 *   client                                   relay (key skS, public pkS)
 *   input = 32 random bytes
 *   blinded = Blind(input)  ── session ──▶    evaluated = skS·blinded, DLEQ proof
 *   output = Finalize(...)  ◀──────────────   (batch, rate-limited per account)
 *   ...later, anonymously:
 *   (keyId, input, output)  ──────────────▶   output == Evaluate(skS, input)?
 *                                             record (keyId, H(input)) in the spent set
 *
 * The relay sees `blinded` at issuance and `input` at spending; blinding
 * makes them unlinkable, and nothing about an issuance is stored except a
 * per-account daily count. Keys rotate: a key issues for
 * `tokenKeyLifetimeSeconds`, stays acceptable for `tokenKeyOverlapSeconds`
 * more, then is retired together with its spent set.
 */

import { ristretto255, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RelayConfig } from './config.ts';
import { ErrorCode, RelayError, badRequest } from './errors.ts';
import { toB64 } from '../lib/bytes.ts';
import { onlyKeys, readBytes, readObject } from './encoding.ts';
import type { RelayStore, Spend, TokenKey } from './store.ts';
import { createTokenEvaluator, newTokenSeed, type TokenEvaluator } from './token-eval.ts';
import type { TokenPool } from './token-pool.ts';
import { MinuteBudget } from './rate-limit.ts';
import { TOKEN_SUITE, type WireTokenKey } from '../lib/protocol/relay.ts';

export { TOKEN_SUITE };
export const TOKEN_INPUT_BYTES = 32;
export const TOKEN_OUTPUT_BYTES = 64;
const ELEMENT_BYTES = 32;

const voprf = ristretto255_oprf.voprf;

/** Window of the claim on creating the next key (see TokenAuthority.createKey). */
const KEY_CLAIM_WINDOW_S = 30;
/** How long an instance that lost the claim waits for the winner's key, and how often it looks. */
const KEY_WAIT_MS = 3_000;
const KEY_POLL_MS = 100;
/** Unknown key ids reload the keys at most this often (a reload starts at most once per this interval). */
const KEY_RELOAD_MIN_MS = 1_000;
/** The published key list is re-read from the store when older than this. */
const KEY_LIST_FRESH_MS = 10_000;

/** A key as used in memory: the stored record plus its evaluator (skS, pkS, fast Evaluate). */
interface LiveKey {
  record: TokenKey;
  evaluator: TokenEvaluator;
}

export interface Token {
  keyId: string;
  input: Uint8Array;
  output: Uint8Array;
}

/** The fields of a spent token (WireToken). */
const TOKEN_KEYS = ['keyId', 'input', 'output'] as const;

export function readToken(obj: Record<string, unknown>, key = 'token'): Token {
  const t = readObject(obj, key);
  onlyKeys(t, TOKEN_KEYS, key);
  const keyId = t.keyId;
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 32) throw badRequest(`${key}.keyId: expected a key id`);
  return {
    keyId,
    input: readBytes(t, 'input', { min: TOKEN_INPUT_BYTES, max: TOKEN_INPUT_BYTES }),
    output: readBytes(t, 'output', { min: TOKEN_OUTPUT_BYTES, max: TOKEN_OUTPUT_BYTES }),
  };
}

const enc = new TextEncoder();
function keyIdOf(publicKey: Uint8Array): string {
  return toB64(sha256(publicKey).subarray(0, 12));
}

/** A token key as published (GET /v1/tokens/keys): the contract's shape. */
export type PublicTokenKey = WireTokenKey;

export class TokenAuthority {
  private keys: LiveKey[] = [];
  private readonly evaluators = new Map<string, TokenEvaluator>();
  private readonly issuance: MinuteBudget;
  /** The run of rotate() in progress, shared by concurrent callers. */
  private rotating: Promise<void> | null = null;
  /** When the keys were last read from the store, and when the last read started (ms). */
  private loadedAt = 0;
  private loadStartedAt = 0;
  /** The reload for unknown key ids that requests are waiting for. */
  private nextReload: Promise<void> | null = null;

  constructor(
    private readonly store: RelayStore,
    private readonly config: RelayConfig,
    private readonly now: () => number,
    /** Worker pool for spend checks; checks run in-process without one. */
    private readonly pool: TokenPool | null = null,
    /**
     * TEST ONLY, off by default: behave like a dishonest relay that gives every
     * account its own issuing key (same validity as the real one, valid DLEQ
     * proofs) and shows each account only its own key on the issuance socket.
     * tests/security/relay-partitions-token-keys.test.ts checks that members notice.
     */
    partitionByAccount = false,
  ) {
    this.issuance = new MinuteBudget(config.tokenIssueRequestsPerMinute, () => this.now() * 1000);
    this.perAccount = partitionByAccount ? new Map() : null;
  }

  private readonly perAccount: Map<string, LiveKey> | null;

  /** The partitioning test relay's key for one account, valid exactly as long as the real issuing key. */
  private async accountKey(accountId: string, perAccount: Map<string, LiveKey>): Promise<LiveKey> {
    const shared = await this.current();
    let k = perAccount.get(accountId);
    if (k === undefined || k.record.issueUntil !== shared.record.issueUntil) {
      const seed = newTokenSeed();
      const evaluator = await createTokenEvaluator(seed);
      k = { record: { ...shared.record, keyId: keyIdOf(evaluator.publicKey), secretKey: seed, publicKey: evaluator.publicKey }, evaluator };
      perAccount.set(accountId, k);
    }
    return k;
  }

  /**
   * The key list as shown to one authenticated account (on the issuance
   * socket). An honest relay shows everyone the same list.
   */
  async publicKeysFor(accountId: string): Promise<PublicTokenKey[]> {
    const list = await this.publicKeys();
    if (this.perAccount === null) return list;
    const own = await this.accountKey(accountId, this.perAccount);
    return list.map((k) => (k.issuing ? { ...k, keyId: own.record.keyId, publicKey: toB64(own.record.publicKey) } : k));
  }

  /**
   * Load keys, retire expired ones, create a new issuing key when none is
   * current. Concurrent calls in this process share one run; across relay
   * instances sharing a store, see `createKey`.
   */
  rotate(): Promise<void> {
    this.rotating ??= this.load().finally(() => (this.rotating = null));
    return this.rotating;
  }

  private async load(): Promise<void> {
    this.loadStartedAt = Date.now();
    const now = this.now();
    let keys = await this.store.listTokenKeys();
    for (const k of keys) {
      if (k.acceptUntil <= now) await this.store.retireTokenKey(k.keyId);
    }
    keys = keys.filter((k) => k.acceptUntil > now);
    if (!keys.some((k) => k.issueUntil > now)) keys = await this.createKey(keys, now);
    const next: LiveKey[] = [];
    // Every instance orders the same stored keys the same way, so all issue under the same key.
    const ordered = keys.sort((a, b) => a.issueUntil - b.issueUntil || (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
    for (const record of ordered) {
      let evaluator = this.evaluators.get(record.keyId);
      if (evaluator === undefined) {
        evaluator = await createTokenEvaluator(record.secretKey);
        this.evaluators.set(record.keyId, evaluator);
      }
      next.push({ record, evaluator });
    }
    for (const id of this.evaluators.keys()) if (!next.some((k) => k.record.keyId === id)) this.evaluators.delete(id);
    this.keys = next;
    this.loadedAt = Date.now();
  }

  /**
   * Create the next issuing key, or wait for the instance that does. Relays
   * sharing a store that all find no issuing key at once must not each make
   * one: a client reads the key list from one instance and may be issued a
   * token by another. So creation is claimed with the store's atomic counter,
   * in a bucket named after the key state every instance just read (the
   * latest issueUntil) and a 30 s window (a creator that died before storing
   * its key blocks creation for at most that long). The others poll the store
   * until the key appears.
   */
  private async createKey(live: TokenKey[], now: number): Promise<TokenKey[]> {
    const latest = live.reduce((m, k) => Math.max(m, k.issueUntil), 0);
    const window = Math.floor(now / KEY_CLAIM_WINDOW_S);
    const claimed = await this.store.consumeQuota(`token-key:${latest}:${window}`, 1, 1, (window + 2) * KEY_CLAIM_WINDOW_S);
    if (!claimed) {
      for (let waited = 0; waited < KEY_WAIT_MS; waited += KEY_POLL_MS) {
        await new Promise((r) => setTimeout(r, KEY_POLL_MS));
        const keys = (await this.store.listTokenKeys()).filter((k) => k.acceptUntil > now);
        if (keys.some((k) => k.issueUntil > now)) return keys;
      }
      // The claimer is gone or slow: keep what we have; the next rotation (or request) tries again.
      return live;
    }
    // The stored secret is an X25519 seed; skS = clamp(seed) mod ℓ (see token-eval.ts).
    const seed = newTokenSeed();
    const evaluator = await createTokenEvaluator(seed);
    const issueUntil = now + this.config.tokenKeyLifetimeSeconds;
    const key: TokenKey = {
      keyId: keyIdOf(evaluator.publicKey),
      secretKey: seed,
      publicKey: evaluator.publicKey,
      issueUntil,
      acceptUntil: issueUntil + this.config.tokenKeyOverlapSeconds,
    };
    await this.store.putTokenKey(key);
    this.evaluators.set(key.keyId, evaluator);
    return [...live, key];
  }

  /**
   * Reload keys that another relay instance may have created, for a token
   * under a key id this instance does not know. Reloads start at most once
   * per KEY_RELOAD_MIN_MS and are shared by every request waiting for one, so
   * a flood of made-up key ids costs one store read per interval (those
   * requests wait up to that long, then fail). A real token under a key just
   * created elsewhere waits for the next reload instead of being refused.
   */
  private reload(): Promise<void> {
    this.nextReload ??= (async () => {
      const wait = this.loadStartedAt + KEY_RELOAD_MIN_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Requests arriving from here on need a load that starts after them: the next one.
      this.nextReload = null;
      // A load already running may have read the store before this request arrived.
      await this.rotating?.catch(() => {});
      await this.rotate();
    })();
    return this.nextReload;
  }

  private async current(): Promise<LiveKey> {
    const now = this.now();
    let key = this.keys.find((k) => k.record.issueUntil > now);
    if (key === undefined) {
      await this.rotate();
      key = this.keys.find((k) => k.record.issueUntil > now);
    }
    if (key === undefined) throw new RelayError(ErrorCode.internal, 'no token key');
    return key;
  }

  async publicKeys(): Promise<PublicTokenKey[]> {
    await this.current();
    const now = this.now();
    // Retire due keys now rather than at the next periodic rotation, so the list and the store agree;
    // and pick up keys other relay instances created, so every instance publishes the same list.
    if (this.keys.some((k) => k.record.acceptUntil <= now) || Date.now() - this.loadedAt > KEY_LIST_FRESH_MS) {
      await this.rotate();
    }
    return this.keys
      .map((k) => k.record)
      .filter((k) => k.acceptUntil > now)
      .map((k) => ({
        keyId: k.keyId,
        publicKey: toB64(k.publicKey),
        issuing: k.issueUntil > now,
        acceptUntil: k.acceptUntil,
      }));
  }

  /**
   * Evaluate a batch of blinded elements for an authenticated account.
   * Rate-limited (requests per minute) and quota-limited (tokens per day).
   */
  async issue(accountId: string, blinded: Uint8Array[]): Promise<{ keyId: string; evaluated: string[]; proof: string }> {
    if (blinded.length > this.config.tokenBatchMax) {
      throw badRequest(`at most ${this.config.tokenBatchMax} blinded elements per request`);
    }
    const points = blinded.map((b, i) => {
      if (b.length !== ELEMENT_BYTES) throw badRequest(`blinded[${i}]: expected ${ELEMENT_BYTES} bytes`);
      let p;
      try {
        p = ristretto255.Point.fromBytes(b);
      } catch (cause) {
        throw badRequest(`blinded[${i}]: not a ristretto255 element`, cause);
      }
      // RFC 9497 §4.1: DeserializeElement rejects the identity element.
      if (p.is0()) throw badRequest(`blinded[${i}]: identity element`);
      return b;
    });
    this.rateLimit(accountId);
    const now = this.now();
    const day = Math.floor(now / 86_400);
    const ok = await this.store.consumeQuota(
      `issue:${accountId}:${day}`,
      points.length,
      this.config.tokenDailyQuota,
      (day + 2) * 86_400,
    );
    if (!ok) throw new RelayError(ErrorCode.quotaExceeded, 'daily token quota reached');
    const key = this.perAccount === null ? await this.current() : await this.accountKey(accountId, this.perAccount);
    const res = voprf.blindEvaluateBatch(key.evaluator.secretKey, key.evaluator.publicKey, points);
    return { keyId: key.record.keyId, evaluated: res.evaluated.map(toB64), proof: toB64(res.proof) };
  }

  private rateLimit(accountId: string): void {
    if (!this.issuance.take(accountId)) throw new RelayError(ErrorCode.rateLimited, 'too many issuance requests');
  }

  private async checkSpend(key: LiveKey, token: Token): Promise<boolean> {
    if (this.pool !== null && this.pool.size > 0) {
      try {
        return await this.pool.check({
          keyId: key.record.keyId,
          seed: key.record.secretKey,
          input: token.input,
          output: token.output,
        });
      } catch {
        // The worker is gone; check here instead.
      }
    }
    return key.evaluator.matches(token.input, token.output);
  }

  /**
   * Check a token's PRF output under its key. Returns what to record in the
   * spent set; the caller records it atomically with what the token pays for.
   */
  async verify(token: Token): Promise<Spend> {
    const now = this.now();
    const find = (): LiveKey | undefined =>
      [...this.keys, ...(this.perAccount?.values() ?? [])].find((k) => k.record.keyId === token.keyId && k.record.acceptUntil > now);
    let key = find();
    // A key this instance has not seen yet may have been created by another relay on the same store.
    if (key === undefined) {
      await this.reload();
      key = find();
    }
    if (key === undefined) throw new RelayError(ErrorCode.tokenInvalid, 'token invalid');
    let ok: boolean;
    try {
      ok = await this.checkSpend(key, token);
    } catch (cause) {
      throw new RelayError(ErrorCode.tokenInvalid, 'token invalid', { cause });
    }
    if (!ok) throw new RelayError(ErrorCode.tokenInvalid, 'token invalid');
    const h = sha256(new Uint8Array([...enc.encode('microchat spent v1'), ...token.input]));
    return { keyId: key.record.keyId, inputHash: toB64(h) };
  }
}
