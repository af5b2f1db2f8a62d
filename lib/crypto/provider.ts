/**
 * The cipher-suite provider: the one small interface through which all MLS
 * cryptography flows (RFC 9420 §5.1). A suite is a table entry; tests can swap
 * one in. Implementations live beside this file (`suites.ts`).
 *
 * Hashes, HMAC and HKDF are synchronous (noble is fastest for MLS's small
 * inputs). Elliptic-curve and AEAD operations are asynchronous because they may
 * run in WebCrypto, where private keys are imported once and cached.
 */

/** RFC 9420 §17.1 cipher suite identifiers. */
export const CipherSuiteId = {
  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: 1,
  MLS_128_DHKEMP256_AES128GCM_SHA256_P256: 2,
  MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519: 3,
  MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448: 4,
  MLS_256_DHKEMP521_AES256GCM_SHA512_P521: 5,
  MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448: 6,
  MLS_256_DHKEMP384_AES256GCM_SHA384_P384: 7,
} as const;
export type CipherSuiteId = (typeof CipherSuiteId)[keyof typeof CipherSuiteId];

export interface HashProvider {
  /** Output length in bytes (Nh). */
  readonly size: number;
  digest(data: Uint8Array): Uint8Array;
  mac(key: Uint8Array, data: Uint8Array): Uint8Array;
}

export interface KdfProvider {
  /** Output length of Extract (Nh). */
  readonly size: number;
  extract(salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /**
   * `expand` under one PRK for several infos, the PRK's HMAC key set up once
   * (HPKE derives key and nonce from one secret). Optional: absent, callers use `expand`.
   */
  expander?(prk: Uint8Array): (info: Uint8Array, length: number) => Uint8Array;
  /**
   * `extract` for a large input, possibly off JavaScript (the same bytes).
   * Optional: absent, callers use `extract`.
   */
  extractLarge?(salt: Uint8Array, ikm: Uint8Array): Promise<Uint8Array>;
}

export interface AeadProvider {
  readonly keySize: number; // Nk
  readonly nonceSize: number; // Nn
  readonly tagSize: number;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Resolves to null when authentication fails; throws only on misuse. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array | null>;
}

export interface KeyPair {
  /** Serialized private key as the RFC / HPKE defines it (SerializePrivateKey). */
  privateKey: Uint8Array;
  /** Serialized public key (SerializePublicKey). */
  publicKey: Uint8Array;
}

export interface HpkeCiphertext {
  kemOutput: Uint8Array;
  ciphertext: Uint8Array;
}

export interface HpkeProvider {
  /** Length of a serialized public key (Npk) and private key (Nsk). */
  readonly publicKeySize: number;
  readonly privateKeySize: number;
  /**
   * Whether anyone can encrypt to `publicKey`: the right length, a point on
   * the curve, no all-zero DH (small order). Costs one ephemeral DH.
   */
  acceptsPublicKey(publicKey: Uint8Array): Promise<boolean>;
  generateKeyPair(): Promise<KeyPair>;
  /** RFC 9180 DeriveKeyPair(ikm). */
  deriveKeyPair(ikm: Uint8Array): Promise<KeyPair>;
  /** Single-shot base-mode seal (RFC 9180 §6.1). */
  seal(publicKey: Uint8Array, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<HpkeCiphertext>;
  /**
   * `seal` of `plaintexts[i]` to `publicKeys[i]`, all under the same `info`,
   * whose hash is computed once (a Welcome's info holds the whole encrypted
   * GroupInfo, hundreds of kilobytes in a large group).
   */
  sealToMany(publicKeys: readonly Uint8Array[], info: Uint8Array, aad: Uint8Array, plaintexts: readonly Uint8Array[]): Promise<HpkeCiphertext[]>;
  /** Resolves to null when decryption fails. */
  open(privateKey: Uint8Array, kemOutput: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array | null>;
  /** SetupBaseS + Export (used by external init, RFC 9420 §8.3). */
  exportSender(publicKey: Uint8Array, info: Uint8Array, exporterContext: Uint8Array, length: number): Promise<{ kemOutput: Uint8Array; secret: Uint8Array }>;
  /** SetupBaseR + Export. Rejects with CryptoError when kemOutput is invalid. */
  exportReceiver(privateKey: Uint8Array, kemOutput: Uint8Array, info: Uint8Array, exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
  /** Does `privateKey` belong to `publicKey`? */
  checkKeyPair(privateKey: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
}

export interface SignatureProvider {
  generateKeyPair(): Promise<KeyPair>;
  sign(privateKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  /** Returns false for a bad signature or malformed key; never throws for those. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

export interface CipherSuite {
  readonly id: CipherSuiteId;
  readonly name: string;
  readonly hash: HashProvider;
  readonly kdf: KdfProvider;
  readonly aead: AeadProvider;
  readonly hpke: HpkeProvider;
  readonly signature: SignatureProvider;
  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;
}
