/**
 * `tsx bench/crypto-micro.ts`: per-call cost of the primitives that dominate
 * MLS operations (awaited one after another, so async latency counts), to
 * locate where a group operation's time goes. Suite 1 provider vs raw noble.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { getCipherSuite } from '../lib/crypto/suites.ts';

const cs = getCipherSuite(1);
const kp = await cs.signature.generateKeyPair();
const msg = new Uint8Array(200);
const sig = await cs.signature.sign(kp.privateKey, msg);
const key = new Uint8Array(16);
const nonce = new Uint8Array(12);
const pt = new Uint8Array(130);
const ct = gcm(key, nonce).encrypt(pt);
const random32 = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));

async function time(name: string, n: number, f: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(50, n); i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(`${name.padEnd(44)} ${(((performance.now() - t0) / n) * 1000).toFixed(1).padStart(8)} µs`);
}

await time('provider Ed25519 sign', 2000, () => cs.signature.sign(kp.privateKey, msg));
await time('provider Ed25519 verify', 2000, () => cs.signature.verify(kp.publicKey, msg, sig));
// For reference only (Node-specific, not usable in the extension): synchronous OpenSSL verify.
const spki = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, ...kp.publicKey]);
const nodeKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
if (!nodeVerify(null, msg, nodeKey, sig)) throw new Error('node verify failed');
await time('node:crypto Ed25519 verify (sync, cached KeyObject)', 2000, () => nodeVerify(null, msg, nodeKey, sig));
await time('noble Ed25519 sign', 300, () => ed25519.sign(msg, kp.privateKey));
await time('noble Ed25519 verify', 300, () => ed25519.verify(sig, msg, kp.publicKey));
await time('provider AES-128-GCM seal 130 B', 2000, () => cs.aead.seal(key, nonce, new Uint8Array(0), pt));
await time('provider AES-128-GCM open 130 B', 2000, () => cs.aead.open(key, nonce, new Uint8Array(0), ct));
await time('noble AES-128-GCM seal 130 B, fresh key', 2000, () => gcm(random32().subarray(0, 16), nonce).encrypt(pt));
await time('provider HPKE deriveKeyPair (X25519)', 300, () => cs.hpke.deriveKeyPair(random32()));
await time('provider HPKE generateKeyPair (X25519)', 300, () => cs.hpke.generateKeyPair());
await time('noble x25519.getPublicKey (ladder)', 300, () => x25519.getPublicKey(random32()));
await time('noble Ed25519 base mult + toMontgomery (+ladder check)', 300, () => {
  const s = random32();
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  let k = 0n;
  for (let i = 31; i >= 0; i--) k = (k << 8n) | BigInt(s[i]!);
  const u = ed25519.utils.toMontgomery(ed25519.Point.BASE.multiply(k % ed25519.Point.Fn.ORDER).toBytes());
  if (!u.every((b, i) => b === x25519.getPublicKey(s)[i])) throw new Error('not the X25519 public key');
  return u;
});
await time('  (same, without the ladder cross-check)', 300, () => {
  const s = random32();
  let k = 0n;
  for (let i = 31; i >= 0; i--) k = (k << 8n) | BigInt(s[i]!);
  k = (k & ((1n << 255n) - 8n)) | (1n << 254n);
  return ed25519.utils.toMontgomery(ed25519.Point.BASE.multiply(k % ed25519.Point.Fn.ORDER).toBytes());
});
const subtle = globalThis.crypto.subtle;
await time('WebCrypto X25519 generateKey + export raw public', 300, async () => {
  const pair = (await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  return subtle.exportKey('raw', pair.publicKey);
});
// RFC 8410 PKCS#8 prefix for an X25519 private key: the public key of a given secret, via WebCrypto.
const PKCS8_X25519 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);
async function webX25519Public(s: Uint8Array): Promise<Uint8Array> {
  const der = new Uint8Array(48);
  der.set(PKCS8_X25519);
  der.set(s, 16);
  const k = await subtle.importKey('pkcs8', der, { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await subtle.exportKey('jwk', k);
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}
const probe = random32();
if (!(await webX25519Public(probe)).every((b, i) => b === x25519.getPublicKey(probe)[i])) throw new Error('WebCrypto X25519 public key mismatch');
await time('WebCrypto X25519 import pkcs8 + export jwk (public of a secret)', 300, () => webX25519Public(random32()));
// X25519(k, 9) is k's public key: one pkcs8 import + one deriveBits against a cached base-point key.
const basePoint = new Uint8Array(32);
basePoint[0] = 9;
const baseKey = await subtle.importKey('raw', basePoint, { name: 'X25519' }, false, []);
async function webX25519PublicByDh(s: Uint8Array): Promise<Uint8Array> {
  const der = new Uint8Array(48);
  der.set(PKCS8_X25519);
  der.set(s, 16);
  const k = await subtle.importKey('pkcs8', der, { name: 'X25519' }, false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: baseKey }, k, 256));
}
if (!(await webX25519PublicByDh(probe)).every((b, i) => b === x25519.getPublicKey(probe)[i])) throw new Error('X25519(k, 9) mismatch');
await time('WebCrypto X25519 pkcs8 import + deriveBits(k, 9)', 300, () => webX25519PublicByDh(random32()));
await time('provider SHA-256 200 B', 5000, () => cs.hash.digest(msg));
