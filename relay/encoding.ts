/**
 * Strict decoding of the JSON fields the relay accepts. Byte strings travel as
 * unpadded base64url; every reader checks type and length and throws a typed
 * bad_request, so handlers only ever see validated values.
 */

import { badRequest } from './errors.ts';

const B64URL = /^[A-Za-z0-9_-]*$/;

export function toB64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decode unpadded base64url; rejects padding, other alphabets and non-canonical trailing bits. */
export function fromB64(text: string): Uint8Array | null {
  if (!B64URL.test(text) || text.length % 4 === 1) return null;
  let bin: string;
  try {
    bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  } catch {
    return null;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Canonical form only, so one byte string has one spelling (ids are compared as text).
  if (toB64(out) !== text) return null;
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
  if (typeof v !== 'string' || v.length !== 22 || fromB64(v)?.length !== 16) {
    throw badRequest(`${key}: expected an id`);
  }
  return v;
}

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
