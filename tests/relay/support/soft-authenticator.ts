/**
 * A software WebAuthn authenticator (ES256, "none" attestation) so relay
 * tests can run real registration and authentication ceremonies against
 * @simplewebauthn/server without a browser. Mirrors what a platform
 * authenticator sends: CBOR attestation object, authenticator data with
 * rpIdHash and flags, DER ECDSA signatures.
 */

import { createHash, webcrypto } from 'node:crypto';
import { fromB64, toB64 } from '../../../lib/bytes.ts';

const subtle = webcrypto.subtle;

/** The one base64url (lib/bytes.ts), under the names the tests use; decoding throws on anything not canonical. */
export const b64u = toB64;
export function fromB64u(s: string): Uint8Array {
  const b = fromB64(s);
  if (b === null) throw new Error(`not canonical base64url: ${s.slice(0, 40)}`);
  return b;
}
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

function cborHead(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function cbor(v: Cbor): Uint8Array {
  if (typeof v === 'number') return new Uint8Array(v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v));
  if (typeof v === 'string') {
    const b = new TextEncoder().encode(v);
    return new Uint8Array([...cborHead(3, b.length), ...b]);
  }
  if (v instanceof Uint8Array) return new Uint8Array([...cborHead(2, v.length), ...v]);
  const parts: number[] = cborHead(5, v.size);
  for (const [k, val] of v) parts.push(...cbor(k), ...cbor(val));
  return new Uint8Array(parts);
}

function derSignature(raw: Uint8Array): Uint8Array {
  const int = (x: Uint8Array): number[] => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    const v = [...x.subarray(i)];
    if ((v[0] ?? 0) & 0x80) v.unshift(0);
    return [0x02, v.length, ...v];
  };
  const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

export interface SoftCredential {
  id: Uint8Array;
  userHandle: Uint8Array;
  rpId: string;
  privateKey: webcrypto.CryptoKey;
  counter: number;
}

export async function createCredential(opts: {
  rpId: string;
  origin: string;
  challenge: string;
  userId: string;
}): Promise<{ credential: SoftCredential; response: Record<string, unknown> }> {
  const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const cose = cbor(
    new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, raw.subarray(1, 33)],
      [-3, raw.subarray(33, 65)],
    ]),
  );
  const id = webcrypto.getRandomValues(new Uint8Array(16));
  const authData = new Uint8Array([
    ...sha256(new TextEncoder().encode(opts.rpId)),
    0x45, // UP | UV | AT
    0, 0, 0, 0,
    ...new Uint8Array(16), // aaguid
    0, id.length,
    ...id,
    ...cose,
  ]);
  const clientDataJSON = new TextEncoder().encode(
    JSON.stringify({ type: 'webauthn.create', challenge: opts.challenge, origin: opts.origin, crossOrigin: false }),
  );
  const attestationObject = cbor(
    new Map<Cbor, Cbor>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', authData],
    ]),
  );
  return {
    credential: { id, userHandle: fromB64u(opts.userId), rpId: opts.rpId, privateKey: pair.privateKey, counter: 0 },
    response: {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    },
  };
}

export async function getAssertion(
  cred: SoftCredential,
  opts: { origin: string; challenge: string },
): Promise<Record<string, unknown>> {
  cred.counter++;
  const c = cred.counter;
  const authData = new Uint8Array([
    ...sha256(new TextEncoder().encode(cred.rpId)),
    0x05, // UP | UV
    (c >>> 24) & 0xff, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff,
  ]);
  const clientDataJSON = new TextEncoder().encode(
    JSON.stringify({ type: 'webauthn.get', challenge: opts.challenge, origin: opts.origin, crossOrigin: false }),
  );
  const signed = new Uint8Array([...authData, ...sha256(clientDataJSON)]);
  const sig = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, cred.privateKey, signed));
  return {
    id: b64u(cred.id),
    rawId: b64u(cred.id),
    type: 'public-key',
    response: {
      clientDataJSON: b64u(clientDataJSON),
      authenticatorData: b64u(authData),
      signature: b64u(derSignature(sig)),
      userHandle: b64u(cred.userHandle),
    },
    clientExtensionResults: {},
  };
}
