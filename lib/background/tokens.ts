/**
 * The client side of sealed-sender tokens (VOPRF, RFC 9497,
 * ristretto255-SHA512; the relay side is relay/tokens.ts).
 *
 *   input  = 32 random bytes              (kept; it is what we later spend)
 *   blinded, blind = Blind(input)         (blind kept only until Finalize)
 *   ── authenticated, on a connection of its own (token-issuer.ts):
 *      {blinded[]} ──▶ {keyId, evaluated[], proof, keys[]}
 *   output = Finalize(input, blind, evaluated) after the DLEQ proof verifies
 *            against the key the relay publishes, and that key is the one
 *            pinned for this period (token-key-pin.ts)
 *   ── anonymous, later, on the delivery path: {keyId, input, output} with one message
 *
 * Verifying the proof against the published key, and accepting one key per
 * period, is what keeps the relay honest: a relay that evaluated each account
 * under its own key could link a spent token to its account. The pin stops
 * a relay from switching a device's key; members comparing their keys inside
 * MLS (token-key-watch.ts) catch a relay that gave people different keys
 * from the start.
 *
 * Tokens are issued ahead, a batch at a time (refill), and spent later, one
 * per message: issuance and spending are separate connections and, except
 * when the wallet runs dry, separate moments.
 *
 * Unspent tokens are sealed in the vault, one record each, so spending one
 * is one delete. The wallet keeps a supply topped up in the background while
 * a session exists.
 */
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { randomBytes, randomId, toB64 } from '../bytes.ts';
import type { RelayApi, WireToken } from './relay-api.ts';
import { RelayApiError } from './relay-api.ts';
import { httpIssuer, type TokenIssuer } from './token-issuer.ts';
import { judgeIssuingKey, type KeyPin } from './token-key-pin.ts';

export interface StoredToken {
  token: WireToken;
  /** Unix seconds after which the relay no longer accepts the token's key. */
  acceptUntil: number;
}

/** Persistence for unspent tokens (sealed by the caller). */
export interface TokenStore {
  loadAll(): Promise<Map<string, StoredToken>>;
  add(tokens: Map<string, StoredToken>): Promise<void>;
  remove(localId: string): Promise<void>;
  /** The pinned issuing key (kept in memory only when absent). */
  loadPin?(): Promise<KeyPin | undefined>;
  savePin?(pin: KeyPin): Promise<void>;
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly code: 'no-session' | 'bad-proof' | 'unknown-key' | 'key-changed' | 'empty',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WalletOptions {
  /** Refill when fewer than this many are left (default 20). */
  low?: number;
  /** Size of a refill (default 50, capped by the relay's batch limit). */
  batch?: number;
  now?: () => number;
  /** How batches are issued (default: HTTP through `api`). */
  issuer?: TokenIssuer;
  /** The pinned issuing key changed (first pin, or a new period). */
  onPinChange?: (pin: KeyPin) => void;
  /** The relay offered a second key for the pinned period (refused). */
  onKeyRefused?: (err: TokenError) => void;
}

export class TokenWallet {
  private tokens = new Map<string, StoredToken>();
  /** The stored tokens, read on first need (see `loaded`). */
  private loading: Promise<void> | undefined;
  private refilling: Promise<void> | undefined;
  private readonly low: number;
  private readonly batch: number;
  private readonly now: () => number;
  private readonly issuer: TokenIssuer;
  private readonly onPinChange: ((pin: KeyPin) => void) | undefined;
  private readonly onKeyRefused: ((err: TokenError) => void) | undefined;
  private pin: KeyPin | undefined;

  private constructor(
    private readonly api: () => RelayApi,
    private readonly store: TokenStore,
    private readonly session: () => string | undefined,
    options: WalletOptions,
  ) {
    this.low = options.low ?? 20;
    this.batch = options.batch ?? 50;
    this.onPinChange = options.onPinChange;
    this.onKeyRefused = options.onKeyRefused;
    this.now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
    this.issuer = options.issuer ?? httpIssuer(api);
  }

  static async open(api: () => RelayApi, store: TokenStore, session: () => string | undefined, options: WalletOptions = {}): Promise<TokenWallet> {
    const w = new TokenWallet(api, store, session, options);
    w.pin = await store.loadPin?.();
    return w;
  }

  /**
   * The stored tokens are read when first needed, not when the wallet opens: each is sealed on its own, a wallet
   * holds up to low + batch of them, and a wake that sends nothing needs none. Tokens issued meanwhile are kept.
   */
  private loaded(): Promise<void> {
    this.loading ??= this.store.loadAll().then(
      (stored) => {
        for (const [id, t] of stored) if (!this.tokens.has(id)) this.tokens.set(id, t);
      },
      (err: unknown) => {
        // Read again by the next caller.
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  /** The issuing key this device holds for the current period (what members compare). */
  get pinnedKey(): KeyPin | undefined {
    return this.pin === undefined ? undefined : { ...this.pin };
  }

  async count(): Promise<number> {
    await this.loaded();
    return this.tokens.size;
  }

  /** Issue `n` tokens now (one batch), verifying the relay's proof. */
  async issue(n: number): Promise<void> {
    const session = this.session();
    if (session === undefined) throw new TokenError('no-session', 'sign in to get send tokens');
    const inputs = Array.from({ length: n }, () => randomBytes(32));
    const blinds: ReturnType<typeof ristretto255_oprf.voprf.blind>[] = [];
    for (const input of inputs) {
      blinds.push(ristretto255_oprf.voprf.blind(input));
      // Blinding is a few ms of curve arithmetic each: let messages and views through in between.
      if (blinds.length % 8 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    const issued = await this.issuer(session, blinds.map((b) => b.blinded));
    const key = issued.keys.find((k) => k.keyId === issued.keyId);
    // A key the relay does not publish could be one made for us alone (linkable).
    if (key === undefined) throw new TokenError('unknown-key', 'tokens were issued under a key the relay does not publish');
    const verdict = judgeIssuingKey(this.pin, key, issued.keys, this.now());
    if (!verdict.ok) {
      // Nothing of this batch is kept: spending it would tell the relay which key, so which device, paid.
      for (const b of blinds) b.blind.fill(0);
      const err = new TokenError('key-changed', `${verdict.rule}: ${verdict.reason}`);
      this.onKeyRefused?.(err);
      throw err;
    }
    let outputs: Uint8Array[];
    try {
      outputs = ristretto255_oprf.voprf.finalizeBatch(
        inputs.map((input, i) => ({ input, blind: blinds[i]!.blind, blinded: blinds[i]!.blinded, evaluated: issued.evaluated[i]! })),
        key.publicKey,
        issued.proof,
      );
    } catch (cause) {
      throw new TokenError('bad-proof', 'the relay’s token proof does not verify', { cause });
    }
    for (const b of blinds) b.blind.fill(0);
    const fresh = new Map<string, StoredToken>();
    inputs.forEach((input, i) => {
      fresh.set(randomId(), { token: { keyId: issued.keyId, input: toB64(input), output: toB64(outputs[i]!) }, acceptUntil: key.acceptUntil });
    });
    if (verdict.changed || this.pin === undefined) {
      this.pin = verdict.pin;
      await this.store.savePin?.(verdict.pin);
      if (verdict.changed) this.onPinChange?.(verdict.pin);
    }
    await this.store.add(fresh);
    for (const [id, t] of fresh) this.tokens.set(id, t);
  }

  /** Top the supply up when it is low; concurrent callers share one refill. Never throws. */
  refill(): Promise<void> {
    // Never throws: a refill that failed is tried again at the next reconnect, and take() issues (and throws) itself.
    return this.loaded()
      .then(() => {
        this.dropExpired();
        if (this.tokens.size >= this.low || this.session() === undefined) return;
        return this.issueShared();
      })
      .catch(() => undefined);
  }

  /**
   * One batch for everyone who needs it now. Every caller issuing its own
   * batch (fifty sends meeting an empty wallet) spent the relay's issuance
   * requests per minute at once, and the rest were refused as rate-limited.
   */
  private issueShared(): Promise<void> {
    this.refilling ??= this.issue(this.batch).finally(() => {
      this.refilling = undefined;
    });
    return this.refilling;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [id, t] of this.tokens) {
      if (t.acceptUntil <= now + 60) {
        this.tokens.delete(id);
        // Best effort: an expired token left in the store is loaded and dropped again the next time.
        void this.store.remove(id).catch(() => undefined);
      }
    }
  }

  /** Take one token out of the wallet (it is removed whether or not the spend succeeds). */
  async take(): Promise<WireToken> {
    await this.loaded();
    this.dropExpired();
    // Takers that find the wallet empty wait for one shared batch; when others took it all first, another one.
    for (let batches = 0; this.tokens.size === 0 && batches < 3; batches++) await this.issueShared();
    const first = this.tokens.entries().next();
    if (first.done === true) throw new TokenError('empty', 'no send tokens left');
    const [id, t] = first.value;
    this.tokens.delete(id);
    await this.store.remove(id);
    if (this.tokens.size < this.low) void this.refill();
    return t.token;
  }

  /**
   * Run `spend` with a fresh token; a token the relay says was already spent
   * or is invalid (e.g. its key rotated out) is replaced and tried once more.
   */
  async spend<T>(spend: (token: WireToken) => Promise<T>): Promise<T> {
    try {
      return await spend(await this.take());
    } catch (err) {
      if (err instanceof RelayApiError && (err.code === 'token_spent' || err.code === 'token_invalid')) return spend(await this.take());
      throw err;
    }
  }
}
