/**
 * The issuance socket (GET /v1/tokens/socket): one authenticated batch of
 * sealed-sender tokens per connection, then the relay closes it.
 *
 *   client → {t:"issue", session, blinded:[...]}
 *   relay  → {t:"issued", keyId, evaluated:[...], proof, keys:[...]}   then close 1000
 *            {t:"error", code, message}                                then close 1000
 *
 * Why a socket of its own: the client wants the one connection that names its
 * account to carry nothing else. A browser pools HTTP requests to one origin
 * on shared keep-alive connections, so an authenticated POST could ride the
 * same TCP connection as the anonymous mailbox and send requests before and
 * after it; a WebSocket is always a connection of its own. The delivery
 * socket (ws.ts) never authenticates, and this one never delivers.
 * `keys` is the published key list (as GET /v1/tokens/keys), so the client
 * checks the proof against the list the relay showed it with this batch.
 */

import type { Accounts } from './accounts.ts';
import type { RelayConfig } from './config.ts';
import { onlyKeys, readBytesList } from './encoding.ts';
import { ErrorCode, RelayError, badRequest } from './errors.ts';
import type { TokenAuthority } from './tokens.ts';
import type { IssueAnswerFrame } from '../lib/protocol/relay.ts';

/** An issuance socket that has not asked within this long is closed. */
const ISSUE_SOCKET_DEADLINE_MS = 10_000;
const OPEN = 1;

export interface IssueSocketDeps {
  accounts: Accounts;
  tokens: TokenAuthority;
  config: RelayConfig;
  log: (line: string) => void;
  audit: (op: string) => void;
  onClose: () => void;
}

export function serveIssueSocket(socket: WebSocket, deps: IssueSocketDeps): void {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    deps.onClose();
  };
  const close = (): void => {
    finish();
    try {
      socket.close(1000, 'done');
    } catch {
      // already closing
    }
  };
  const answer = (frame: IssueAnswerFrame): void => {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(frame));
    close();
  };
  const deadline = setTimeout(close, ISSUE_SOCKET_DEADLINE_MS);
  socket.onclose = finish;
  socket.onerror = finish;
  socket.onmessage = (ev: MessageEvent) => {
    if (done) return;
    // One request per connection: later frames are ignored while the first is answered.
    socket.onmessage = null;
    void issue(ev.data, deps)
      .then(answer)
      .catch((err: unknown) => {
        if (err instanceof RelayError) return answer({ t: 'error', code: err.code, message: err.message });
        deps.log(`internal error (issue socket): ${err instanceof Error ? err.name : typeof err}`);
        answer({ t: 'error', code: ErrorCode.internal, message: 'internal error' });
      });
  };
}

async function issue(data: unknown, deps: IssueSocketDeps): Promise<IssueAnswerFrame> {
  if (typeof data !== 'string' || data.length > deps.config.maxFrameBytes) throw badRequest('expected one JSON text frame');
  let f: unknown;
  try {
    f = JSON.parse(data);
  } catch {
    throw badRequest('frame is not JSON');
  }
  if (typeof f !== 'object' || f === null || Array.isArray(f) || (f as { t?: unknown }).t !== 'issue') throw badRequest('expected an issue frame');
  const frame = f as Record<string, unknown>;
  onlyKeys(frame, ['t', 'session', 'blinded']);
  deps.audit('issue');
  const { accountId } = await deps.accounts.authenticateToken(frame.session);
  const blinded = readBytesList(frame, 'blinded', { min: 32, max: 32, maxItems: deps.config.tokenBatchMax });
  const issued = await deps.tokens.issue(accountId, blinded);
  return { t: 'issued', ...issued, keys: await deps.tokens.publicKeysFor(accountId) };
}
