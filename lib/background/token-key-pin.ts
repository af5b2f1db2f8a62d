/**
 * One token key per period. Blind issuance hides which account a token came
 * from only if everyone's tokens come from the same key: a relay that gave
 * each account (or each batch) its own key, with valid proofs, could read the
 * account off every "anonymous" spend by its key id. So the wallet pins the
 * issuing key it was first given and refuses another for the same period, and
 * members compare the keys they hold inside their MLS groups (where the
 * relay cannot change what they say; token-key-watch.ts).
 *
 * What a period is, from what the relay publishes (relay/tokens.ts: keyId,
 * publicKey, issuing, acceptUntil): the run during which one key is the
 * issuing key. An honest relay has exactly one issuing key at a time, and
 * makes the next one only after the current one stops issuing; the next key
 * is accepted for longer (acceptUntil moves forward by the key lifetime).
 * Hence, for a key other than the pinned one:
 *   - TK-PIN-1: a list with two issuing keys at once is refused;
 *   - TK-PIN-2: the same key id under another public key is refused;
 *   - TK-PIN-3: a new key is a new period only when the pinned key no longer
 *     issues (the list says so, or the pinned key has expired) and the new key
 *     is accepted for longer than the pinned one; otherwise it is a second key
 *     for the same period, and refused.
 * A relay can still hand each account its own key from the start (there is
 * nothing yet to compare with locally); members' exchange catches that.
 */
import type { TokenKeyInfo } from './relay-api.ts';
import { toB64 } from '../bytes.ts';

/** The issuing key this device accepted for the current period (kept sealed in the vault). */
export interface KeyPin {
  keyId: string;
  /** base64url of the public key. */
  publicKey: string;
  acceptUntil: number;
}

export type PinVerdict = { ok: true; pin: KeyPin; changed: boolean } | { ok: false; rule: 'TK-PIN-1' | 'TK-PIN-2' | 'TK-PIN-3'; reason: string };

/** Judge the key a batch was issued under, given the list the relay showed with it. */
export function judgeIssuingKey(pin: KeyPin | undefined, issued: TokenKeyInfo, published: TokenKeyInfo[], now: number): PinVerdict {
  const fresh: KeyPin = { keyId: issued.keyId, publicKey: toB64(issued.publicKey), acceptUntil: issued.acceptUntil };
  // TK-PIN-1: one issuing key at a time.
  if (published.filter((k) => k.issuing).length > 1) return { ok: false, rule: 'TK-PIN-1', reason: 'the relay lists two issuing token keys at once' };
  if (pin === undefined || pin.acceptUntil <= now) return { ok: true, pin: fresh, changed: pin?.keyId !== fresh.keyId };
  if (pin.keyId === fresh.keyId) {
    // TK-PIN-2: a key id names one key.
    if (pin.publicKey !== fresh.publicKey) return { ok: false, rule: 'TK-PIN-2', reason: 'the relay changed the public key behind a key id' };
    return { ok: true, pin: { ...pin, acceptUntil: Math.min(pin.acceptUntil, fresh.acceptUntil) }, changed: false };
  }
  // TK-PIN-3: a different key only once the pinned key's period is over.
  const listed = published.find((k) => k.keyId === pin.keyId);
  const pinnedStillIssues = listed !== undefined && listed.issuing;
  if (pinnedStillIssues || fresh.acceptUntil <= pin.acceptUntil) {
    return { ok: false, rule: 'TK-PIN-3', reason: 'the relay offered a second token key for the same period' };
  }
  return { ok: true, pin: fresh, changed: true };
}

/** What another member said they hold (from a `tokenkey` app message). */
export interface MemberKey {
  keyId: string;
  acceptUntil: number;
}

/**
 * Whether a member's key and ours can both be honest. They can differ only
 * across a rotation: one of us has not been issued tokens since the relay
 * moved to the next key. `published` is the key list the relay shows us
 * now; a relay that shows people different keys must either leave the other
 * key out of our list (then we cannot place it) or place both keys in a
 * period order that one of the two members finds contradicts its own.
 */
export function keysConsistent(ours: KeyPin | undefined, theirs: MemberKey, published: TokenKeyInfo[]): boolean {
  if (ours === undefined || theirs.keyId === ours.keyId) return true;
  const listed = published.find((k) => k.keyId === theirs.keyId);
  if (listed === undefined || listed.acceptUntil !== theirs.acceptUntil) return false;
  const oursListed = published.find((k) => k.keyId === ours.keyId);
  // Theirs is the older key: it no longer issues and we were given a later one.
  if (!listed.issuing && theirs.acceptUntil < ours.acceptUntil) return true;
  // Theirs is the newer key: ours no longer issues (our next refill moves us to theirs).
  if (theirs.acceptUntil > ours.acceptUntil && (oursListed === undefined || !oursListed.issuing)) return true;
  return false;
}
