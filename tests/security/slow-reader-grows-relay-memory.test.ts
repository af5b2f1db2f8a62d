// Attack: a client subscribes a mailbox with many pending messages, then sends
// cheap `fetch` frames (each makes the relay push the whole page again) and
// never reads what comes back. Without a bound on the socket's buffered output
// every frame parks another page in the relay's memory (measured on the old
// code: 157 → 347 MiB RSS with 41 frames). The relay must close such a
// connection once its bufferedAmount passes --max-buffered-bytes, and its
// RSS must stay under a stated bound.
//
// The attacker is a raw TCP socket that does the WebSocket handshake and
// then stops reading at the TCP level (socket.pause()), so the kernel buffers
// fill and everything else piles up in the relay. Afterwards it reads again:
// what the relay queued for it must end (close frame 1008 "slow reader", or
// the TCP connection closed) after no more than the limit's worth of data.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, capFor, randomQueue, type Mailbox } from '../relay/support/client.ts';
import { b64u } from '../relay/support/soft-authenticator.ts';

const MESSAGES = 300;
const MESSAGE_BYTES = 11 * 1024;
/** Fetch frames the attacker sends at most (20 a second, under the frame rate limit). */
const MAX_FRAMES = 60;
/** The relay's whole RSS may grow by at most this while under attack (the limit is the default, 16 MiB). */
const RSS_GROWTH_BOUND_MIB = 64;
/** What the client may find queued for it: the limit, one push frame over it, and the kernel's socket buffers. */
const RECEIVED_BOUND_MIB = 16 + 16;

const MiB = 1024 * 1024;

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS');
  return Number(m[1]) / 1024;
}

/** A masked client text frame (RFC 6455 §5.2). */
function wsFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** Opens /v1/ws over raw TCP and returns the socket right after the 101 answer, no longer reading. */
function rawUpgrade(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.once('error', reject);
    socket.on('connect', () => {
      socket.write(
        'GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!got.startsWith('HTTP/1.1 101')) {
        reject(new Error(`upgrade refused: ${got.split('\r\n')[0]}`));
        return;
      }
      socket.pause();
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

interface Drained {
  bytes: number;
  /** A close frame, the relay ending the TCP connection, or nothing before the timeout. */
  close: { code: number; reason: string } | 'tcp' | null;
}

/**
 * Reads the socket again and parses server frames (unmasked, RFC 6455 §5.2)
 * until a close frame, the end of the connection, or the timeout.
 */
function drain(socket: Socket, timeoutMs: number): Promise<Drained> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    let bytes = 0;
    const done = (close: Drained['close']): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ bytes, close });
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (opcode === 0x8) {
          done({ code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString('utf8') });
          return;
        }
      }
    });
    socket.on('close', () => done('tcp'));
    socket.resume();
  });
}

describe('a slow reader cannot grow the relay memory', () => {
  let relay: RelayProcess;
  let mailbox: Mailbox;

  beforeAll(async () => {
    relay = await startRelay();
    const c = new RelayClient(relay.url);
    const account = await c.register();
    const tokens = await c.tokens(account.session, MESSAGES + 1);
    mailbox = await c.mailbox(tokens.pop()!);
    const queue = randomQueue();
    await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...mailbox });
    const payload = b64u(randomBytes(MESSAGE_BYTES));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < MESSAGES) {
          next++;
          await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload });
        }
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await relay.stop();
  });

  it('closes the connection once its buffered output passes the limit; RSS stays bounded', async () => {
    const pid = relay.process.pid!;
    const before = rssMiB(pid);
    const socket = await rawUpgrade(relay.port);
    socket.on('error', () => undefined);
    socket.write(wsFrame(JSON.stringify({ t: 'sub', mailboxId: mailbox.mailboxId, secret: mailbox.secret })));

    let peak = before;
    let frames = 0;
    while (frames < MAX_FRAMES) {
      await new Promise((r) => setTimeout(r, 50));
      socket.write(wsFrame(JSON.stringify({ t: 'fetch', mailboxId: mailbox.mailboxId })));
      frames++;
      peak = Math.max(peak, rssMiB(pid));
    }
    await new Promise((r) => setTimeout(r, 500));
    peak = Math.max(peak, rssMiB(pid));
    const drained = await drain(socket, 20_000);
    socket.destroy();
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssMiB(pid);
    const figures = {
      rssBeforeMiB: Math.round(before),
      rssPeakMiB: Math.round(peak),
      rssAfterMiB: Math.round(after),
      framesSent: frames,
      pageMiB: Math.round(((MESSAGES * Math.ceil((MESSAGE_BYTES * 4) / 3)) / MiB) * 10) / 10,
      receivedMiB: Math.round((drained.bytes / MiB) * 10) / 10,
      close: drained.close,
    };
    console.log(`slow reader: ${JSON.stringify(figures)}`);
    // Deno sends the close frame behind what was already queued, and may drop the TCP connection before it gets through.
    expect(drained.close, 'the relay closed the slow reader').not.toBeNull();
    if (drained.close !== 'tcp') expect(drained.close).toEqual({ code: 1008, reason: 'slow reader' });
    expect(drained.bytes / MiB).toBeLessThan(RECEIVED_BOUND_MIB);
    expect(peak - before).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    // The relay still serves everyone else.
    const c = new RelayClient(relay.url);
    expect((await c.call('GET', '/healthz')).status).toBe(200);
  }, 120_000);
});
