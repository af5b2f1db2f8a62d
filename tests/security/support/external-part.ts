/**
 * A file reference as a hostile member's client puts it in a MIMI content:
 * an external part that passes every check a recipient makes of its fields
 * (AES-256-GCM, SHA-256, a ciphertext size a real file of 1000 bytes has,
 * key and nonce of the right lengths). Each attack overrides only the fields
 * it is about, so a refusal is due to what the attack changed.
 */
import { ciphertextSize, ENC_ALG_AES_256_GCM, HASH_ALG_SHA_256 } from '../../../lib/background/attachment-crypto.ts';
import { Cardinality, Disposition, type ExternalPart } from '../../../lib/content/types.ts';

export function externalPart(over: Partial<ExternalPart> = {}): ExternalPart {
  return {
    disposition: Disposition.attachment,
    language: '',
    cardinality: Cardinality.external,
    contentType: 'application/pdf',
    url: 'http://127.0.0.1:8787/v1/blobs/AAAAAAAAAAAAAAAAAAAAAA',
    expires: 0,
    size: BigInt(ciphertextSize(1000)),
    encAlg: ENC_ALG_AES_256_GCM,
    key: new Uint8Array(32).fill(1),
    nonce: new Uint8Array(12).fill(2),
    aad: new Uint8Array(0),
    hashAlg: HASH_ALG_SHA_256,
    contentHash: new Uint8Array(32).fill(3),
    description: '',
    filename: 'report.pdf',
    ...over,
  };
}
