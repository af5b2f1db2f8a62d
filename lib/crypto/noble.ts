/**
 * The noble backend: every primitive in pure JavaScript (@noble/hashes,
 * @noble/ciphers, @noble/curves). Slower than the others, and the reference
 * the tests compare them with, since it runs the same everywhere.
 */
import { nobleAead } from './aead.ts';
import { nobleDhGroup } from './dh.ts';
import { nobleHash, nobleKdf } from './hash.ts';
import type { Primitives } from './primitives.ts';
import { nobleSignature } from './signature.ts';

export const noblePrimitives: Primitives = Object.freeze({
  name: 'noble',
  hash: nobleHash,
  kdf: nobleKdf,
  aead: nobleAead,
  dh: nobleDhGroup,
  signature: nobleSignature,
});
