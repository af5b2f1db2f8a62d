// One token key per period (token-key-pin.ts, TK-PIN-1..3): the wallet pins the
// first issuing key it is given and refuses a second key for the same period
// (typed error, nothing of the batch kept, the refusal reported so the person
// is warned); an honest rotation is accepted. Members' keys are judged
// consistent only across a rotation the relay's list explains.
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { parseAppMessage, encodeAppMessage } from '../../lib/background/app-messages.ts';
import { toB64 } from '../../lib/bytes.ts';
import type { RelayApi, TokenKeyInfo } from '../../lib/background/relay-api.ts';
import type { TokenIssuer } from '../../lib/background/token-issuer.ts';
import { judgeIssuingKey, keysConsistent, type KeyPin } from '../../lib/background/token-key-pin.ts';
import { TokenError, TokenWallet, type StoredToken, type TokenStore } from '../../lib/background/tokens.ts';

const voprf = ristretto255_oprf.voprf;
const NOW = 1_000_000;

interface Key {
  info: TokenKeyInfo;
  secretKey: Uint8Array;
}

function makeKey(keyId: string, acceptUntil: number, issuing = true): Key {
  const kp = voprf.generateKeyPair();
  return { info: { keyId, publicKey: kp.publicKey, issuing, acceptUntil }, secretKey: kp.secretKey };
}

/** A relay that issues under `current.key` and shows `current.list` with each batch. */
function relay(current: { key: Key; list: TokenKeyInfo[] }): TokenIssuer {
  return async (_session, blinded) => {
    const r = voprf.blindEvaluateBatch(current.key.secretKey, current.key.info.publicKey, blinded);
    return { keyId: current.key.info.keyId, evaluated: r.evaluated, proof: r.proof, keys: current.list };
  };
}

function memoryStore(): TokenStore & { map: Map<string, StoredToken>; pin?: KeyPin } {
  const s: TokenStore & { map: Map<string, StoredToken>; pin?: KeyPin } = {
    map: new Map(),
    loadAll: async () => new Map(s.map),
    add: async (t) => {
      for (const [k, v] of t) s.map.set(k, v);
    },
    remove: async (k) => {
      s.map.delete(k);
    },
    loadPin: async () => s.pin,
    savePin: async (p) => {
      s.pin = p;
    },
  };
  return s;
}

const noApi = (): RelayApi => {
  throw new Error('the wallet must use its issuer');
};

describe('token key pinning (TK-PIN)', () => {
  it('TK-PIN-3: the wallet refuses a second, different key for the same period, keeps nothing of it, and reports it', async () => {
    const k1 = makeKey('k1', NOW + 86_400);
    const k2 = makeKey('k2', NOW + 86_400);
    const current = { key: k1, list: [k1.info] };
    const store = memoryStore();
    const refused: TokenError[] = [];
    const pins: KeyPin[] = [];
    const w = await TokenWallet.open(noApi, store, () => 's', {
      issuer: relay(current),
      now: () => NOW,
      onKeyRefused: (e) => refused.push(e),
      onPinChange: (p) => pins.push(p),
    });
    await w.issue(3);
    expect(w.pinnedKey).toEqual({ keyId: 'k1', publicKey: toB64(k1.info.publicKey), acceptUntil: NOW + 86_400 });
    expect(store.pin?.keyId).toBe('k1');
    expect(pins.map((p) => p.keyId)).toEqual(['k1']);

    // Same period (same validity), another key, shown alone to this device: refused.
    current.key = k2;
    current.list = [k2.info];
    await expect(w.issue(3)).rejects.toMatchObject({ name: 'TokenError', code: 'key-changed', message: expect.stringContaining('TK-PIN-3') });
    expect(await w.count()).toBe(3);
    expect([...store.map.values()].every((t) => t.token.keyId === 'k1')).toBe(true);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(TokenError);
    // The pin survives a restart (it is persisted), and the refusal with it.
    const again = await TokenWallet.open(noApi, store, () => 's', { issuer: relay(current), now: () => NOW });
    expect(again.pinnedKey?.keyId).toBe('k1');
    await expect(again.issue(1)).rejects.toMatchObject({ code: 'key-changed' });
  });

  it('TK-PIN-3: a later key while the pinned one is still listed as issuing is refused too', () => {
    const k1 = makeKey('k1', NOW + 100);
    const k2 = makeKey('k2', NOW + 900);
    const pin: KeyPin = { keyId: 'k1', publicKey: toB64(k1.info.publicKey), acceptUntil: k1.info.acceptUntil };
    expect(judgeIssuingKey(pin, k2.info, [k1.info, { ...k2.info, issuing: false }], NOW)).toMatchObject({ ok: false, rule: 'TK-PIN-3' });
  });

  it('accepts an honest rotation: the pinned key stopped issuing and the next one is accepted for longer', async () => {
    const k1 = makeKey('k1', NOW + 100);
    const k2 = makeKey('k2', NOW + 900);
    const current = { key: k1, list: [k1.info] };
    const pins: string[] = [];
    const w = await TokenWallet.open(noApi, memoryStore(), () => 's', { issuer: relay(current), now: () => NOW, onPinChange: (p) => pins.push(p.keyId) });
    await w.issue(2);
    current.key = k2;
    current.list = [{ ...k1.info, issuing: false }, k2.info];
    await w.issue(2);
    expect(w.pinnedKey?.keyId).toBe('k2');
    expect(pins).toEqual(['k1', 'k2']);
    expect(await w.count()).toBe(4);
  });

  it('TK-PIN-1: a list with two issuing keys is refused; TK-PIN-2: a key id with another public key is refused', () => {
    const k1 = makeKey('k1', NOW + 100);
    const k2 = makeKey('k2', NOW + 100);
    expect(judgeIssuingKey(undefined, k1.info, [k1.info, k2.info], NOW)).toMatchObject({ ok: false, rule: 'TK-PIN-1' });
    const pin: KeyPin = { keyId: 'k1', publicKey: toB64(k2.info.publicKey), acceptUntil: NOW + 100 };
    expect(judgeIssuingKey(pin, k1.info, [k1.info], NOW)).toMatchObject({ ok: false, rule: 'TK-PIN-2' });
    // An expired pin no longer binds.
    expect(judgeIssuingKey({ ...pin, acceptUntil: NOW - 1 }, k2.info, [k2.info], NOW)).toMatchObject({ ok: true, changed: true });
  });

  it('members: the same key, or either side of a rotation the list explains, is consistent; an unknown key is not', () => {
    const k1 = makeKey('k1', NOW + 100);
    const k2 = makeKey('k2', NOW + 900);
    const pin1: KeyPin = { keyId: 'k1', publicKey: toB64(k1.info.publicKey), acceptUntil: NOW + 100 };
    const pin2: KeyPin = { keyId: 'k2', publicKey: toB64(k2.info.publicKey), acceptUntil: NOW + 900 };
    const rotated = [{ ...k1.info, issuing: false }, k2.info];
    expect(keysConsistent(pin1, { keyId: 'k1', acceptUntil: NOW + 100 }, [])).toBe(true);
    // They have not refilled since the rotation; we have.
    expect(keysConsistent(pin2, { keyId: 'k1', acceptUntil: NOW + 100 }, rotated)).toBe(true);
    // We have not; they have.
    expect(keysConsistent(pin1, { keyId: 'k2', acceptUntil: NOW + 900 }, rotated)).toBe(true);
    // A key our relay does not show us, or shows with another validity, or a "newer" key while ours still issues.
    expect(keysConsistent(pin1, { keyId: 'kX', acceptUntil: NOW + 100 }, [k1.info])).toBe(false);
    expect(keysConsistent(pin2, { keyId: 'k1', acceptUntil: NOW + 50 }, rotated)).toBe(false);
    expect(keysConsistent(pin1, { keyId: 'k2', acceptUntil: NOW + 900 }, [k1.info, { ...k2.info, issuing: false }])).toBe(false);
  });

  it('the tokenkey app message round-trips and is parsed strictly', () => {
    const m = { v: 1 as const, t: 'tokenkey' as const, id: 'abc', at: 5, keyId: 'AAAAAAAAAAAAAAAA', acceptUntil: 99, reply: false };
    expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
    const bad = (o: Record<string, unknown>): unknown => parseAppMessage(new TextEncoder().encode(JSON.stringify({ ...m, ...o })));
    expect(bad({ keyId: 'x'.repeat(33) })).toBeNull();
    expect(bad({ keyId: 'a b' })).toBeNull();
    expect(bad({ reply: 'no' })).toBeNull();
    expect(bad({ acceptUntil: -1 })).toBeNull();
    expect(bad({ acceptUntil: 1.5 })).toBeNull();
  });
});
