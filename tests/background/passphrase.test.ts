// The passphrase lock's KDF: Argon2id with stated parameters, NFKC-normalised
// input, salt and parameters stored beside the wrapped key; a wrong
// passphrase fails authentication and changes nothing.
import { describe, expect, it } from 'vitest';
import { argon2id } from '@noble/hashes/argon2.js';
import { passphraseKek, passphraseProblem, PASSPHRASE_KDF, validArgon2Params } from '../../lib/background/passphrase.ts';
import { lockKind, unlockWithPassphrase, unwrapDataKey, wrapDataKey } from '../../lib/background/lock.ts';

const salt = new Uint8Array(32).fill(3);
const cheap = { m: 64, t: 1, p: 1 };

describe('passphrase KDF', () => {
  it('is Argon2id with m = 64 MiB, t = 3, p = 1 (RFC 9106 §4, second option)', () => {
    expect(PASSPHRASE_KDF).toEqual({ m: 65536, t: 3, p: 1 });
  });

  it('derives 32 bytes equal to Argon2id of the NFKC form; salt and passphrase both matter', async () => {
    const k = await passphraseKek('pässphrase one', salt, cheap);
    expect(k).toHaveLength(32);
    expect(k).toEqual(argon2id(new TextEncoder().encode('pässphrase one'), salt, { ...cheap, dkLen: 32 }));
    // "ä" typed as a + combining diaeresis is the same passphrase.
    expect(await passphraseKek('pa\u0308ssphrase one', salt, cheap)).toEqual(k);
    expect(await passphraseKek('pässphrase two', salt, cheap)).not.toEqual(k);
    expect(await passphraseKek('pässphrase one', new Uint8Array(32).fill(4), cheap)).not.toEqual(k);
  });

  it('takes about a second at the real parameters (measured, printed)', async () => {
    const t0 = performance.now();
    await passphraseKek('correct horse battery staple', salt, PASSPHRASE_KDF);
    const ms = performance.now() - t0;
    console.info(`Argon2id m=64 MiB t=3 p=1: ${ms.toFixed(0)} ms (@noble/hashes, Node)`);
    expect(ms).toBeGreaterThan(50);
  });

  it('refuses short passphrases and stored parameters that would exhaust the worker', () => {
    expect(passphraseProblem('short')).toMatch(/at least 8/);
    expect(passphraseProblem('long enough')).toBeNull();
    expect(validArgon2Params(PASSPHRASE_KDF)).toBe(true);
    expect(validArgon2Params({ m: 4 * 1024 * 1024, t: 3, p: 1 })).toBe(false);
    expect(validArgon2Params({ m: 65536, t: 1000, p: 1 })).toBe(false);
    expect(validArgon2Params({ m: 65536, t: 3 })).toBe(false);
    expect(validArgon2Params(null)).toBe(false);
  });

  it('wraps a data key that only the right passphrase unwraps; salt and parameters travel with it', async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const kek = await passphraseKek('the right passphrase', salt, cheap);
    const wrapped = await wrapDataKey(raw, kek, { kind: 'passphrase', salt, kdf: cheap, gen: 7, credentialId: '', displayName: 'P' });
    expect(lockKind(wrapped)).toBe('passphrase');
    expect(Buffer.from(wrapped.ct).includes(Buffer.from(raw))).toBe(false);
    const vault = await unlockWithPassphrase(wrapped, 'the right passphrase');
    expect(vault.generation).toBe(7);
    const sealed = await (await unwrapDataKey(wrapped, kek)).seal('s', 'i', new Uint8Array([1, 2]));
    expect(await vault.open('s', 'i', sealed)).toEqual(new Uint8Array([1, 2]));
    await expect(unlockWithPassphrase(wrapped, 'the wrong passphrase')).rejects.toMatchObject({ code: 'locked' });
    // A passkey-lock record is not a passphrase record.
    await expect(unlockWithPassphrase({ ...wrapped, kind: 'prf' }, 'the right passphrase')).rejects.toMatchObject({ code: 'locked' });
  });
});
