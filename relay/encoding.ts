/**
 * Strict decoding of the JSON fields the relay accepts. Byte strings travel as
 * unpadded base64url; every reader checks type and length and throws a typed
 * bad_request, so handlers only ever see validated values.
 */

import { badRequest } from './errors.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function toB64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Decode unpadded base64url. Rejects padding, other alphabets, impossible
 * lengths and non-canonical trailing bits, so one byte string has exactly one
 * spelling (ids are compared as text).
 */
export function fromB64(text: string): Uint8Array | null {
  const len = text.length;
  if (len % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits (2 or 4) must be zero in the canonical encoding.
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

export interface BytesRule {
  min?: number;
  max: number;
}

export function readBytes(obj: Record<string, unknown>, key: string, rule: BytesRule): Uint8Array {
  const v = obj[key];
  if (typeof v !== 'string') throw badRequest(`${key}: expected a base64url string`);
  // Cheap bound before decoding: 4 chars per 3 bytes.
  if (v.length > Math.ceil((rule.max * 4) / 3) + 1) throw badRequest(`${key}: longer than ${rule.max} bytes`);
  const bytes = fromB64(v);
  if (bytes === null) throw badRequest(`${key}: not canonical unpadded base64url`);
  if (bytes.length < (rule.min ?? 1) || bytes.length > rule.max) {
    throw badRequest(`${key}: length must be in [${rule.min ?? 1}, ${rule.max}]`);
  }
  return bytes;
}

/** Bytes with the text they came as. */
export interface EncodedBytes {
  bytes: Uint8Array;
  /** Canonical unpadded base64url of `bytes`: exactly what toB64(bytes) gives. */
  text: string;
}

/** readBytes, keeping the text too, so what is passed on as is need not be encoded again. */
export function readEncodedBytes(obj: Record<string, unknown>, key: string, rule: BytesRule): EncodedBytes {
  const bytes = readBytes(obj, key, rule);
  return { bytes, text: obj[key] as string };
}

export function readOptionalBytes(obj: Record<string, unknown>, key: string, rule: BytesRule): Uint8Array | undefined {
  return obj[key] === undefined ? undefined : readBytes(obj, key, rule);
}

export function readBytesList(
  obj: Record<string, unknown>,
  key: string,
  rule: BytesRule & { maxItems: number; minItems?: number },
): Uint8Array[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw badRequest(`${key}: expected an array`);
  if (v.length < (rule.minItems ?? 1) || v.length > rule.maxItems) {
    throw badRequest(`${key}: between ${rule.minItems ?? 1} and ${rule.maxItems} items`);
  }
  return v.map((_, i) => readBytes(v as unknown as Record<string, unknown>, String(i), rule));
}

/** An opaque identifier the relay minted (base64url of 16 random bytes). */
export function readId(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || !ID_SHAPE.test(v)) throw badRequest(`${key}: expected an id`);
  return v;
}

/**
 * Canonical unpadded base64url of exactly 16 bytes: 21 symbols, then one that
 * carries the last 2 bits and 4 zero bits (A, Q, g or w). The same strings
 * fromB64 accepts at that length, checked without decoding (acks carry up to
 * a hundred ids per frame).
 */
const ID_SHAPE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function readIdList(obj: Record<string, unknown>, key: string, maxItems: number): string[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length < 1 || v.length > maxItems) {
    throw badRequest(`${key}: expected 1 to ${maxItems} ids`);
  }
  return v.map((_, i) => readId(v as unknown as Record<string, unknown>, String(i)));
}

export function readObject(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`${key}: expected an object`);
  return v as Record<string, unknown>;
}

export function readInt(obj: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(`${key}: expected an integer in [${min}, ${max}]`);
  }
  return v;
}

export function readOptionalString(obj: Record<string, unknown>, key: string, maxLength: number): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > maxLength) throw badRequest(`${key}: expected a string up to ${maxLength}`);
  return v;
}

/** 16 random bytes as an id. */
export function randomId(): string {
  return toB64(crypto.getRandomValues(new Uint8Array(16)));
}

export function randomSecret(bytes = 32): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(bytes));
}
