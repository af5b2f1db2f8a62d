/**
 * The primitives interface: everything a cipher suite (suites.ts) needs from a
 * crypto backend, per algorithm. Each backend implements it once:
 *
 *   noble.ts        pure JavaScript (@noble), the reference the others are tested against
 *   webcrypto.ts    what a browser runs: `crypto.subtle` where the runtime has the
 *                   algorithm and it is faster, JavaScript for the rest
 *   node-crypto.ts  under Node: OpenSSL through node:crypto where its synchronous
 *                   calls are cheaper, the WebCrypto primitives for the rest
 *
 * A suite is composed once from one `Primitives` (`createCipherSuite(id,
 * primitives)`), HPKE's KEM included, so no part of a suite can end up on
 * another backend than the one chosen. All backends give byte-identical
 * outputs and apply the same checks; they differ only in speed.
 */
import type { AeadName } from './aead.ts';
import type { DhGroup, DhName } from './dh.ts';
import type { HashName } from './hash.ts';
import type { AeadProvider, HashProvider, KdfProvider, SignatureProvider } from './provider.ts';
import type { SignatureName } from './signature.ts';

export type { AeadName, DhGroup, DhName, HashName, SignatureName };

export interface Primitives {
  /** Which backend this is, for benchmarks and logs. */
  readonly name: 'noble' | 'webcrypto' | 'node';
  /** Hash and HMAC (synchronous). */
  hash(name: HashName): HashProvider;
  /** HKDF over that hash (synchronous). */
  kdf(name: HashName): KdfProvider;
  aead(name: AeadName): AeadProvider;
  /** A DH group for a DHKEM; each call has its own key caches. */
  dh(name: DhName): DhGroup;
  /** A signature scheme; each call has its own key caches. */
  signature(name: SignatureName): SignatureProvider;
}
