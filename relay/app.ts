/**
 * The relay's web-standard core: `fetch(Request) → Response` plus standard
 * WebSocket handling. Runtime specifics (listening, upgrading a request to a
 * WebSocket) come in through `UpgradeWebSocket`, supplied by the thin entry
 * (main.ts for Deno).
 */

import type { RelayConfig } from './config.ts';
import { ErrorCode, RelayError, notFound } from './errors.ts';
import { corsHeaders, json, toErrorResponse } from './http.ts';

/** Turns an upgrade request into a server-side standard WebSocket. */
export type UpgradeWebSocket = (req: Request) => { socket: WebSocket; response: Response };

export interface RelayDeps {
  config: RelayConfig;
  /** Operational log; receives no request data. */
  log: (line: string) => void;
}

export interface Relay {
  fetch(req: Request, upgrade?: UpgradeWebSocket): Promise<Response>;
  close(): Promise<void>;
}

export function createRelay(deps: RelayDeps): Relay {
  const { config, log } = deps;

  async function route(req: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new RelayError(ErrorCode.methodNotAllowed, 'use GET');
      return json({ ok: true });
    }
    throw notFound();
  }

  return {
    async fetch(req: Request): Promise<Response> {
      const cors = corsHeaders(config, req);
      if (req.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
      try {
        const res = await route(req, new URL(req.url));
        cors.forEach((v, k) => res.headers.set(k, v));
        return res;
      } catch (err) {
        return toErrorResponse(err, log, cors);
      }
    },
    async close(): Promise<void> {},
  };
}
