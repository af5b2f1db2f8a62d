/**
 * HTTP plumbing shared by every route: JSON answers, CORS for the extension's
 * origins, bounded body reading, and the relay's one error path.
 *
 * Nothing here logs request data: no IPs, no headers, no bodies, no paths.
 */

import type { RelayConfig } from './config.ts';
import { onlyKeys } from './encoding.ts';
import { ErrorCode, RelayError, badRequest } from './errors.ts';

export const EXTENSION_ORIGIN = /^(chrome-extension|moz-extension):\/\/[a-zA-Z0-9-]{1,64}$/;

/** Whether `origin` may call the relay from a browser (CORS) and run WebAuthn ceremonies. */
export function isAllowedOrigin(config: RelayConfig, origin: string | null): boolean {
  if (origin === null) return false;
  if (config.origins.includes(origin)) return true;
  return config.allowAnyExtension && EXTENSION_ORIGIN.test(origin);
}

export function corsHeaders(config: RelayConfig, req: Request): Headers {
  const headers = new Headers();
  const origin = req.headers.get('origin');
  if (isAllowedOrigin(config, origin) && origin !== null) {
    headers.set('access-control-allow-origin', origin);
    headers.set('vary', 'origin');
    headers.set('access-control-allow-methods', 'GET, POST, PUT, DELETE, OPTIONS');
    headers.set('access-control-allow-headers', 'authorization, content-type, x-mailbox-secret');
    headers.set('access-control-max-age', '600');
  }
  return headers;
}

export function json(body: unknown, status = 200, headers?: Headers): Response {
  const h = headers ?? new Headers();
  h.set('content-type', 'application/json');
  h.set('cache-control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers: h });
}

export function errorResponse(err: RelayError, headers?: Headers): Response {
  return json({ error: { code: err.code, message: err.message } }, err.status, headers);
}

/**
 * The single error path. Known errors become their status and typed code;
 * anything else is a bug: log its kind and message (never the request) and
 * answer a plain 500.
 */
export function toErrorResponse(err: unknown, log: (line: string) => void, headers?: Headers): Response {
  if (err instanceof RelayError) return errorResponse(err, headers);
  const kind = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? err.message : '';
  log(`internal error: ${kind}: ${message.slice(0, 200)}`);
  return errorResponse(new RelayError(ErrorCode.internal, 'internal error'), headers);
}

/**
 * Read a JSON object body of at most `maxBytes`, or throw a typed error.
 * `emptyIsObject`: a route whose body has no fields also takes no body at all.
 */
export async function readJsonBody(req: Request, maxBytes: number, emptyIsObject = false): Promise<Record<string, unknown>> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    throw new RelayError(ErrorCode.tooLarge, `body above ${maxBytes} bytes`);
  }
  const bytes = await readLimited(req, maxBytes);
  if (emptyIsObject && bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw badRequest('body is not valid UTF-8 JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A JSON object body holding no key outside `keys` (the fields its route reads; encoding.ts onlyKeys). */
export async function readStrictBody(req: Request, maxBytes: number, keys: readonly string[], emptyIsObject = false): Promise<Record<string, unknown>> {
  const b = await readJsonBody(req, maxBytes, emptyIsObject);
  onlyKeys(b, keys);
  return b;
}

async function readLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RelayError(ErrorCode.tooLarge, `body above ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
