import { describe, expect, it } from 'vitest';
import { WebAuthnError } from '@simplewebauthn/browser';
import { jsonSafe, passkeyErrorMessage, withPrfBuffers } from '@/lib/view/webauthn.ts';
import { takeOpenRequest, requestOpen } from '@/lib/view/open-request.ts';
import { ChannelError, ErrorCode } from '@/lib/extension/protocol.ts';

describe('passkey helpers', () => {
  it('decodes PRF salts, per credential too, and leaves other options alone', () => {
    const options = { challenge: 'abc', extensions: { prf: { eval: { first: 'AAE', second: 'AgM' }, evalByCredential: { cred: { first: 'BA' } } }, credProps: true } };
    const out = withPrfBuffers(options) as unknown as {
      challenge: string;
      extensions: { credProps: boolean; prf: { eval: { first: ArrayBuffer; second: ArrayBuffer }; evalByCredential: { cred: { first: ArrayBuffer } } } };
    };
    expect(out.challenge).toBe('abc');
    expect(out.extensions.credProps).toBe(true);
    expect([...new Uint8Array(out.extensions.prf.eval.first)]).toEqual([0, 1]);
    expect([...new Uint8Array(out.extensions.prf.eval.second)]).toEqual([2, 3]);
    expect([...new Uint8Array(out.extensions.prf.evalByCredential.cred.first)]).toEqual([4]);
    expect(options.extensions.prf.eval.first).toBe('AAE'); // input untouched
    expect(withPrfBuffers({ challenge: 'x' })).toEqual({ challenge: 'x' });
  });

  it('turns every buffer in the results into base64url', () => {
    expect(jsonSafe({ a: new Uint8Array([251, 255]).buffer, b: [new Uint8Array([1])], c: 'keep', d: true })).toEqual({ a: '-_8', b: ['AQ'], c: 'keep', d: true });
  });

  it('explains failures in words', () => {
    const cancelled = new WebAuthnError({ message: 'aborted', code: 'ERROR_CEREMONY_ABORTED', cause: new Error('x') });
    expect(passkeyErrorMessage(cancelled, 'create')).toContain('no account was created');
    expect(passkeyErrorMessage(Object.assign(new Error('x'), { name: 'InvalidStateError' }), 'create')).toContain('already holds');
    expect(passkeyErrorMessage(new ChannelError(ErrorCode.InvalidInput, 'Name too long.'), 'create')).toBe('Name too long.');
    expect(passkeyErrorMessage(new Error('WebAuthn is not supported in this browser'), 'unlock')).toContain('cannot use passkeys');
  });
});

describe('open requests from the popup', () => {
  it('are read once and expire', () => {
    requestOpen('c7');
    expect(takeOpenRequest()).toBe('c7');
    expect(takeOpenRequest()).toBeNull();
    requestOpen('c8');
    expect(takeOpenRequest(localStorage, Date.now() + 120_000)).toBeNull();
  });
});
