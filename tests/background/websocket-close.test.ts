// Closing a socket that is still connecting (the app stops, a socket's open
// deadline passes, a token batch times out) must not surface as an uncaught
// error. With `ws` (Node) it did: a closed handshake reports an 'error', and
// an EventEmitter with no 'error' listener throws it. Found by CI, where
// search.test stopped an app while its socket was connecting.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RelayConnection } from '../../lib/background/relay-connection.ts';
import { closeQuietly, type WebSocketLike } from '../../lib/background/websocket-like.ts';

/** A `ws` socket that records an 'error' emitted with nobody listening, instead of throwing it. */
class RecordingSocket extends WebSocket {
  static unheard: unknown[] = [];
  static made: RecordingSocket[] = [];
  constructor(url: string) {
    super(url);
    RecordingSocket.made.push(this);
  }
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) {
      RecordingSocket.unheard.push(args[0]);
      return false;
    }
    return super.emit(event, ...args);
  }
}

let server: Server;
let url: string;
const held: Socket[] = [];

beforeEach(async () => {
  RecordingSocket.unheard = [];
  RecordingSocket.made = [];
  // A relay that takes the upgrade request and never answers it: the socket stays connecting.
  server = createServer();
  server.on('upgrade', (_req, socket: Socket) => void held.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${address.port}`;
});

afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

async function connecting(): Promise<RecordingSocket> {
  const ws = new RecordingSocket(url.replace(/^http/, 'ws'));
  while (held.length === 0) await settle();
  expect(ws.readyState).toBe(WebSocket.CONNECTING);
  return ws;
}

describe('closing a socket that is still connecting', () => {
  it('closeQuietly: the aborted handshake reports nothing and reaches no handler', async () => {
    const ws = await connecting();
    const heard: string[] = [];
    const like = ws as unknown as WebSocketLike;
    like.onopen = () => heard.push('open');
    like.onclose = () => heard.push('close');
    like.onmessage = () => heard.push('message');
    closeQuietly(like, 1000, 'bye');
    await settle();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(RecordingSocket.unheard).toEqual([]);
    expect(heard).toEqual([]);
  });

  it('the same socket with its handlers removed (as before) throws the error nobody hears', async () => {
    const ws = await connecting();
    const like = ws as unknown as WebSocketLike;
    like.onerror = null;
    like.close(1000, 'bye');
    await settle();
    expect(RecordingSocket.unheard).toHaveLength(1);
    expect(String(RecordingSocket.unheard[0])).toContain('closed before the connection was established');
  });

  it('RelayConnection.stop while connecting: offline, the socket closed, no uncaught error', async () => {
    const states: string[] = [];
    const conn = new RelayConnection({
      url,
      WebSocket: RecordingSocket as unknown as new (u: string) => WebSocketLike,
      mailboxes: [],
      onMessage: () => {},
      onState: (s) => states.push(s),
    });
    conn.start();
    while (held.length === 0) await settle();
    expect(RecordingSocket.made).toHaveLength(1);
    conn.stop();
    await settle();
    expect(conn.connectionState).toBe('offline');
    expect(RecordingSocket.made[0]!.readyState).toBe(WebSocket.CLOSED);
    expect(RecordingSocket.unheard).toEqual([]);
    expect(RecordingSocket.made).toHaveLength(1);
  });

  it('RelayConnection: an open that does not come in time drops the socket quietly and tries again', async () => {
    const conn = new RelayConnection({
      url,
      WebSocket: RecordingSocket as unknown as new (u: string) => WebSocketLike,
      mailboxes: [],
      onMessage: () => {},
      onState: () => {},
      deadlineMs: 100,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
    });
    conn.start();
    while (RecordingSocket.made.length < 2) await settle();
    conn.stop();
    await settle();
    expect(RecordingSocket.made[0]!.readyState).toBe(WebSocket.CLOSED);
    expect(RecordingSocket.unheard).toEqual([]);
  });
});
