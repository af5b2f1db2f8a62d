import { describe, expect, it } from 'vitest';
import { WebAuthnError } from '@simplewebauthn/browser';
import { jsonSafe, passkeyErrorMessage, registerPasskey, withPrfBuffers, type Authenticate, type Register } from '@/lib/view/webauthn.ts';
import { takeOpenRequest, requestOpen } from '@/lib/view/open-request.ts';
import { ChannelError, ErrorCode } from '@/lib/protocol/channel.ts';

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

describe('registering a passkey with the PRF lock', () => {
  const options = { rp: { id: 'relay.example', name: 'r' }, challenge: 'Y2g', extensions: { prf: { eval: { first: 'c2FsdA' } } } };
  const created = (prf: Record<string, unknown>) =>
    ({ id: 'cred-1', rawId: 'cred-1', type: 'public-key', response: {}, clientExtensionResults: { prf } }) as unknown as Awaited<ReturnType<Register>>;

  it('keeps a PRF output given at creation (Chrome) and asks nothing more', async () => {
    const authenticate: Authenticate = () => Promise.reject(new Error('must not be called'));
    const out = await registerPasskey(options, () => Promise.resolve(created({ enabled: true, results: { first: new Uint8Array([7, 7]).buffer } })), authenticate);
    expect(out.clientExtensionResults).toEqual({ prf: { enabled: true, results: { first: 'Bwc' } } });
  });

  it('when creation only says PRF is enabled (Firefox), evaluates it with one local assertion of the new passkey, same salt', async () => {
    let asked: Record<string, unknown> | undefined;
    const authenticate: Authenticate = ({ optionsJSON }) => {
      asked = optionsJSON as unknown as Record<string, unknown>;
      return Promise.resolve({ id: 'cred-1', clientExtensionResults: { prf: { results: { first: new Uint8Array([9, 9, 9]).buffer } } } } as unknown as Awaited<ReturnType<Authenticate>>);
    };
    const out = await registerPasskey(options, () => Promise.resolve(created({ enabled: true })), authenticate);
    expect(out.clientExtensionResults).toEqual({ prf: { enabled: true, results: { first: 'CQkJ' } } });
    expect(asked?.rpId).toBe('relay.example');
    expect(asked?.allowCredentials).toEqual([{ id: 'cred-1', type: 'public-key' }]);
    expect(asked?.userVerification).toBe('required');
    const salt = (asked?.extensions as { prf: { eval: { first: ArrayBuffer } } }).prf.eval.first;
    expect(new TextDecoder().decode(salt)).toBe('salt');
  });

  it('asks nothing more when the authenticator has no PRF at all', async () => {
    const authenticate: Authenticate = () => Promise.reject(new Error('must not be called'));
    const out = await registerPasskey(options, () => Promise.resolve(created({ enabled: false })), authenticate);
    expect(out.clientExtensionResults).toEqual({ prf: { enabled: false } });
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
