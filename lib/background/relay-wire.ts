/**
 * Reading what the relay sends. Every answer and frame is checked before use:
 * the relay is not trusted with anything but delivery, and a confused or
 * hostile relay must produce a typed `RelayApiError`, never a half-read object.
 * The shapes are the relay contract's (lib/protocol/relay.ts).
 */
import { concatBytes, fromB64 } from '../bytes.ts';
import type { ErrorCode } from '../protocol/relay.ts';

/** What the relay says and what the client adds: the relay was not reached, or sent nonsense, or no code. */
export type ClientErrorCode = 'unreachable' | 'malformed' | `http_${number}`;
export type RelayApiErrorCode = ErrorCode | ClientErrorCode;

/** A failed relay call: `status` 0 means the relay could not be reached at all. */
export class RelayApiError extends Error {
  override readonly name = 'RelayApiError';
  constructor(
    readonly status: number,
    readonly code: RelayApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

/** A message the relay delivered, its payload decoded. */
export interface DeliveredMessage {
  id: string;
  kind: 'group' | 'welcome';
  payload: Uint8Array;
}

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function malformed(what: string): RelayApiError {
  return new RelayApiError(502, 'malformed', `the relay sent a malformed ${what}`);
}

export function str(o: Json, k: string, what: string, max = 4096): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max) throw malformed(what);
  return v;
}

export function bytes(o: Json, k: string, what: string, max = 1 << 20): Uint8Array {
  const b = fromB64(str(o, k, what, Math.ceil((max * 4) / 3) + 4));
  if (b === null) throw malformed(what);
  return b;
}

export function num(o: Json, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw malformed(what);
  return v;
}

/** The shape of the ids the relay mints (base64url of 16 bytes). */
export const ID = /^[A-Za-z0-9_-]{22}$/;

export function parseDelivered(o: unknown): DeliveredMessage {
  if (!isRecord(o)) throw malformed('message');
  const id = str(o, 'id', 'message id', 22);
  if (!ID.test(id)) throw malformed('message id');
  const kind = o.kind;
  if (kind !== 'group' && kind !== 'welcome') throw malformed('message kind');
  return { id, kind, payload: bytes(o, 'payload', 'message payload') };
}

/**
 * The body as text, or RelayApiError 'malformed' (reading stops) once it
 * passes `max` bytes: a relay that sends more is not answering our question,
 * and reading it all would hold as much memory as it cares to send.
 */
export async function boundedText(res: Response, max: number, what: string): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      void reader.cancel().catch(() => undefined);
      throw malformed(what);
    }
    parts.push(value);
  }
  return new TextDecoder().decode(concatBytes(...parts));
}
