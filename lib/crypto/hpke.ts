/**
 * HPKE (RFC 9180), base mode only, which is all MLS uses: single-shot
 * Seal/Open (EncryptWithLabel, Welcome, UpdatePath) and Export (external
 * init). Written directly on one backend's DH group, HKDF and AEAD (all from
 * the same `Primitives`, the KEM's own KDF included) so that every step is
 * synchronous except the DH and the AEAD.
 *
 *   Encap(pkR):  skE,pkE <- fresh;  dh = DH(skE, pkR)
 *                shared_secret = ExtractAndExpand(dh, enc || pkR)      §4.1
 *   KeySchedule: psk_id_hash, info_hash -> key, base_nonce, exporter   §5.1
 *   Seal:        AEAD(key, base_nonce (seq 0), aad, pt)                §5.2
 */
import { concatBytes } from '../bytes.ts';
import { CryptoError, UsageError } from './errors.ts';
import type { HpkeProvider, KdfProvider } from './provider.ts';
import type { AeadName, DhName, HashName, Primitives } from './primitives.ts';

const utf8 = new TextEncoder();
const HPKE_V1 = utf8.encode('HPKE-v1');

function i2osp(n: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = n & 0xff;
    n >>>= 8;
  }
  return out;
}

class Labeled {
  private readonly prefix: Uint8Array;
  /** prefix || label, per label: built once, the labels are a handful of constants. */
  private readonly labels = new Map<string, Uint8Array>();
  constructor(
    private readonly kdf: KdfProvider,
    suiteId: Uint8Array,
  ) {
    this.prefix = concatBytes(HPKE_V1, suiteId);
  }
  private label(label: string): Uint8Array {
    let l = this.labels.get(label);
    if (l === undefined) {
      l = concatBytes(this.prefix, utf8.encode(label));
      this.labels.set(label, l);
    }
    return l;
  }
  extract(salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
    return this.kdf.extract(salt, concatBytes(this.label(label), ikm));
  }
  /** `extract`, through the KDF's `extractLarge` when `ikm` is large and the KDF has one. */
  async extractMaybeLarge(salt: Uint8Array, label: string, ikm: Uint8Array): Promise<Uint8Array> {
    const large = ikm.length >= LARGE_INPUT ? this.kdf.extractLarge : undefined;
    return large === undefined ? this.extract(salt, label, ikm) : large.call(this.kdf, salt, concatBytes(this.label(label), ikm));
  }
  expand(prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
    return this.kdf.expand(prk, this.expandInfo(label, info, length), length);
  }
  /** LabeledExpand of several labels from one PRK, its HMAC key set up once where the KDF can. */
  expander(prk: Uint8Array): (label: string, info: Uint8Array, length: number) => Uint8Array {
    const keyed = this.kdf.expander?.(prk);
    if (keyed === undefined) return (label, info, length) => this.expand(prk, label, info, length);
    return (label, info, length) => keyed(this.expandInfo(label, info, length), length);
  }
  private expandInfo(label: string, info: Uint8Array, length: number): Uint8Array {
    return concatBytes(i2osp(length, 2), this.label(label), info);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * An HPKE info from this many bytes on is hashed through the KDF's
 * `extractLarge` where it has one: a Welcome's info is the whole encrypted
 * GroupInfo (~300 KB at 1,024 members), which WebCrypto's HMAC hashes
 * natively while ours runs in JavaScript.
 */
const LARGE_INPUT = 16 * 1024;

/** An HPKE suite (RFC 9180 §7): the KEM's DH group, the KDF's hash and the AEAD. */
export interface HpkeSuite {
  kem: DhName;
  kdf: HashName;
  aead: AeadName;
}

/** RFC 9180 §7.2 KDF and §7.3 AEAD identifiers. */
const KDF_IDS: Record<HashName, number> = { 'SHA-256': 1, 'SHA-384': 2, 'SHA-512': 3 };
const AEAD_IDS: Record<AeadName, number> = { 'AES-128-GCM': 1, 'AES-256-GCM': 2, 'ChaCha20-Poly1305': 3 };

export function hpkeProvider(primitives: Primitives, suite: HpkeSuite): HpkeProvider {
  const dh = primitives.dh(suite.kem);
  const kdf = primitives.kdf(suite.kdf);
  const aead = primitives.aead(suite.aead);
  // §4.1: the KEM has its own KDF, over the DH group's hash.
  const kem = new Labeled(primitives.kdf(dh.kemHash), concatBytes(utf8.encode('KEM'), i2osp(dh.kemId, 2)));
  const hpke = new Labeled(
    kdf,
    concatBytes(utf8.encode('HPKE'), i2osp(dh.kemId, 2), i2osp(KDF_IDS[suite.kdf], 2), i2osp(AEAD_IDS[suite.aead], 2)),
  );
  // psk_id_hash is the same for every base-mode context.
  const pskIdHash = hpke.extract(EMPTY, 'psk_id_hash', EMPTY);

  function extractAndExpand(dhValue: Uint8Array, kemContext: Uint8Array): Uint8Array {
    const prk = kem.extract(EMPTY, 'eae_prk', dhValue);
    return kem.expand(prk, 'shared_secret', kemContext, dh.nsecret);
  }

  async function encap(pkR: Uint8Array): Promise<{ sharedSecret: Uint8Array; enc: Uint8Array }> {
    const { enc, dh: dhValue } = await dh.ephemeralDh(pkR);
    return { sharedSecret: extractAndExpand(dhValue, concatBytes(enc, pkR)), enc };
  }

  async function decap(enc: Uint8Array, skR: Uint8Array): Promise<Uint8Array> {
    const dhValue = await dh.dh(skR, enc);
    return extractAndExpand(dhValue, concatBytes(enc, dh.publicKey(skR)));
  }

  /**
   * §5.1 KeySchedule for mode_base (psk and psk_id empty). The exporter
   * secret is derived only by the export functions: Seal/Open never use it.
   */
  async function keySchedule(sharedSecret: Uint8Array, info: Uint8Array, withExporter = false) {
    return keyScheduleFromInfoHash(sharedSecret, await hpke.extractMaybeLarge(EMPTY, 'info_hash', info), withExporter);
  }

  function keyScheduleFromInfoHash(sharedSecret: Uint8Array, infoHash: Uint8Array, withExporter = false) {
    const context = concatBytes(new Uint8Array([0]), pskIdHash, infoHash);
    const secret = hpke.extract(sharedSecret, 'secret', EMPTY);
    const expand = hpke.expander(secret);
    return {
      key: expand('key', context, aead.keySize),
      nonce: expand('base_nonce', context, aead.nonceSize),
      exporter: withExporter ? expand('exp', context, kdf.size) : EMPTY,
    };
  }

  function checkExportLength(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > 255 * kdf.size) {
      throw new UsageError(`HPKE export length ${length} out of range`);
    }
  }

  return {
    publicKeySize: dh.npk,
    privateKeySize: dh.nsk,
    generateKeyPair: () => dh.generateKeyPair(),

    /** Probe with the ephemeral DH that Encap would do: it applies every check sealing would. */
    async acceptsPublicKey(publicKey) {
      if (publicKey.length !== dh.npk) return false;
      try {
        (await dh.ephemeralDh(publicKey)).dh.fill(0);
        return true;
      } catch (err) {
        if (err instanceof CryptoError) return false;
        throw err;
      }
    },

    /** §7.1.3 DeriveKeyPair. */
    async deriveKeyPair(ikm) {
      const prk = kem.extract(EMPTY, 'dkp_prk', ikm);
      if (dh.montgomery) {
        const sk = kem.expand(prk, 'sk', EMPTY, dh.nsk);
        return { privateKey: sk, publicKey: await dh.publicKeyAsync(sk) };
      }
      for (let counter = 0; counter < 256; counter++) {
        const sk = kem.expand(prk, 'candidate', i2osp(counter, 1), dh.nsk);
        sk[0]! &= dh.bitmask;
        if (dh.isValidPrivateKey(sk)) return { privateKey: sk, publicKey: await dh.publicKeyAsync(sk) };
      }
      throw new CryptoError('DeriveKeyPair', 'no valid candidate in 256 attempts');
    },

    async seal(publicKey, info, aad, plaintext) {
      const { sharedSecret, enc } = await encap(publicKey);
      const { key, nonce } = await keySchedule(sharedSecret, info);
      return { kemOutput: enc, ciphertext: await aead.seal(key, nonce, aad, plaintext) };
    },

    async sealToMany(publicKeys, info, aad, plaintexts) {
      if (publicKeys.length !== plaintexts.length) throw new UsageError('sealToMany: one plaintext per public key');
      const infoHash = await hpke.extractMaybeLarge(EMPTY, 'info_hash', info);
      return Promise.all(
        publicKeys.map(async (publicKey, i) => {
          const { sharedSecret, enc } = await encap(publicKey);
          const { key, nonce } = keyScheduleFromInfoHash(sharedSecret, infoHash);
          return { kemOutput: enc, ciphertext: await aead.seal(key, nonce, aad, plaintexts[i]!) };
        }),
      );
    },

    async open(privateKey, kemOutput, info, aad, ciphertext) {
      let sharedSecret: Uint8Array;
      try {
        sharedSecret = await decap(kemOutput, privateKey);
      } catch (err) {
        if (err instanceof CryptoError) return null;
        throw err;
      }
      const { key, nonce } = await keySchedule(sharedSecret, info);
      return aead.open(key, nonce, aad, ciphertext);
    },

    async exportSender(publicKey, info, exporterContext, length) {
      checkExportLength(length);
      const { sharedSecret, enc } = await encap(publicKey);
      const { exporter } = await keySchedule(sharedSecret, info, true);
      return { kemOutput: enc, secret: hpke.expand(exporter, 'sec', exporterContext, length) };
    },

    async exportReceiver(privateKey, kemOutput, info, exporterContext, length) {
      checkExportLength(length);
      const sharedSecret = await decap(kemOutput, privateKey);
      const { exporter } = await keySchedule(sharedSecret, info, true);
      return hpke.expand(exporter, 'sec', exporterContext, length);
    },

    async checkKeyPair(privateKey, publicKey) {
      if (privateKey.length !== dh.nsk || publicKey.length !== dh.npk || !dh.isValidPrivateKey(privateKey)) return false;
      const derived = dh.publicKey(privateKey);
      let diff = 0;
      for (let i = 0; i < derived.length; i++) diff |= derived[i]! ^ publicKey[i]!;
      return diff === 0;
    },
  };
}
