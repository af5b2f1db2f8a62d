/**
 * Strict decoding of the JSON fields the relay accepts. Byte strings travel as
 * unpadded base64url (decoded by lib/bytes.ts, canonical spelling only); every
 * reader checks type and length and throws a typed bad_request, so handlers
 * only ever see validated values. Every body and frame also declares the keys
 * it accepts (`onlyKeys`): any other key is refused, not dropped, so a client
 * bug, a probe or a newer client's field the relay would not enforce shows.
 */

import { fromB64 } from '../lib/bytes.ts';
import { badRequest } from './errors.ts';

/** How much of an unexpected key's name an error repeats (never its value). */
const KEY_NAME_SHOWN = 40;

/**
 * Refuses any key of `obj` outside `allowed`, naming the first such key (cut
 * short; its value is never echoed). `where` prefixes the message for nested
 * objects (e.g. `token`). Call it where a body or frame is read, before
 * anything is spent or stored.
 */
export function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], where?: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw badRequest(`${where === undefined ? '' : `${where}: `}unexpected key ${JSON.stringify(key.slice(0, KEY_NAME_SHOWN))}`);
    }
  }
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
  /** Canonical unpadded base64url of `bytes`: exactly what toB64(bytes) (lib/bytes.ts) gives. */
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
