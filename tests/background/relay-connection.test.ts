// The live connection manager with a scripted WebSocket: subscribe on open,
// online after the relay's ok, application-level heartbeat, a missing pong
// declares the socket dead, reconnects use full-jitter exponential backoff.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKOFF_MAX_MS, RelayConnection, backoffDelay, type WebSocketLike } from '../../lib/background/relay-connection.ts';
import { parseDelivered } from '../../lib/background/relay-wire.ts';
import type { ConnectionState } from '../../lib/protocol/channel.ts';

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: unknown): void {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
}

const mailbox = { mailboxId: 'AAAAAAAAAAAAAAAAAAAAAA', secret: 'B'.repeat(43) };

describe('RelayConnection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
  });
  afterEach(() => vi.useRealTimers());

  function make(): { c: RelayConnection; states: ConnectionState[]; got: string[] } {
    const states: ConnectionState[] = [];
    const got: string[] = [];
    const c = new RelayConnection({
      url: 'http://127.0.0.1:9',
      WebSocket: FakeSocket,
      mailboxes: [mailbox],
      onMessage: (mailboxId, m) => got.push(`${mailboxId}/${m.id}`),
      onState: (s) => states.push(s),
      heartbeatMs: 1000,
      deadlineMs: 500,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      random: () => 0.999,
    });
    return { c, states, got };
  }

  it('subscribes its mailboxes on open, is online once the relay answers, and passes pushes on', () => {
    const { c, states, got } = make();
    c.start();
    const s = FakeSocket.all[0]!;
    expect(s.url).toBe('ws://127.0.0.1:9/v1/ws');
    s.open();
    expect(s.sent[0]).toEqual({ t: 'ping', rid: 'hello' });
    expect(s.sent[1]).toMatchObject({ t: 'sub', ...mailbox });
    expect(c.connectionState).toBe('connecting');
    s.frame({ t: 'pong', rid: 'hello' });
    expect(states.at(-1)).toBe('online');
    s.frame({ t: 'msg', mailboxId: mailbox.mailboxId, id: 'CCCCCCCCCCCCCCCCCCCCCC', kind: 'group', payload: 'AQID' });
    s.frame({ t: 'msg', mailboxId: mailbox.mailboxId, id: 'short', kind: 'group', payload: 'AQID' }); // malformed: dropped
    s.frame({ t: 'msg', mailboxId: 'DDDDDDDDDDDDDDDDDDDDDD', id: 'CCCCCCCCCCCCCCCCCCCCCC', kind: 'group', payload: 'AQID' }); // not ours: dropped
    expect(got).toEqual([`${mailbox.mailboxId}/CCCCCCCCCCCCCCCCCCCCCC`]);
    expect(c.ack('DDDDDDDDDDDDDDDDDDDDDD', ['CCCCCCCCCCCCCCCCCCCCCC'])).toBe(false);
    expect(c.ack(mailbox.mailboxId, ['CCCCCCCCCCCCCCCCCCCCCC'])).toBe(true);
    expect(s.sent.at(-1)).toMatchObject({ t: 'ack', mailboxId: mailbox.mailboxId, ids: ['CCCCCCCCCCCCCCCCCCCCCC'] });
    c.stop();
    expect(states.at(-1)).toBe('offline');
    expect(s.closed).toBe(true);
  });

  it('acks faster than the frame rate join the ack still waiting, so none falls behind at the relay', () => {
    const { c } = make();
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.frame({ t: 'pong', rid: 'hello' });
    // Use up this second's frames, so the acks below wait for the pacing.
    for (let i = 0; i < 30; i++) c.addMailbox({ mailboxId: `M${String(i).padStart(21, '0')}`, secret: 'B'.repeat(43) });
    const ids = Array.from({ length: 250 }, (_, i) => String(i).padStart(22, 'C'));
    for (const id of ids) expect(c.ack(mailbox.mailboxId, [id])).toBe(true);
    vi.advanceTimersByTime(5000);
    const acks = s.sent.filter((f) => f.t === 'ack');
    // One frame per message would take 13 s at 20 frames a second; joined, three frames carry all 250, in order.
    expect(acks.map((f) => (f.ids as string[]).length)).toEqual([100, 100, 50]);
    expect(acks.flatMap((f) => f.ids as string[])).toEqual(ids);
    expect(new Set(acks.map((f) => f.rid)).size).toBe(3);
    c.stop();
  });

  it('pings while open; a missing pong drops the socket and it reconnects with backoff', () => {
    const { c, states } = make();
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.frame({ t: 'pong', rid: 'hello' });
    vi.advanceTimersByTime(1000);
    expect(s.sent.at(-1)).toEqual({ t: 'ping' });
    s.frame({ t: 'pong' });
    vi.advanceTimersByTime(1000);
    expect(s.sent.filter((f) => f.t === 'ping' && f.rid === undefined)).toHaveLength(2);
    // No pong this time: after the deadline the socket is dead.
    vi.advanceTimersByTime(500);
    expect(s.closed).toBe(true);
    expect(states.at(-1)).toBe('offline');
    expect(c.ack(mailbox.mailboxId, ['x'])).toBe(false);
    // First retry after at most base·2^0 = 100 ms.
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.open();
    FakeSocket.all[1]!.frame({ t: 'pong', rid: 'hello' });
    expect(c.connectionState).toBe('online');
    c.stop();
  });

  it('backs off exponentially while the relay stays down, capped, and resets after success', () => {
    const { c } = make();
    c.start();
    const delays: number[] = [];
    let last = Date.now();
    for (let i = 0; i < 6; i++) {
      const s = FakeSocket.all.at(-1)!;
      s.onclose?.({});
      const before = FakeSocket.all.length;
      while (FakeSocket.all.length === before) vi.advanceTimersByTime(1);
      delays.push(Date.now() - last);
      last = Date.now();
    }
    // floor(0.999 · min(cap, base·2^n))
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
    const s = FakeSocket.all.at(-1)!;
    s.open();
    s.frame({ t: 'pong', rid: 'hello' });
    s.onclose?.({});
    const before = FakeSocket.all.length;
    vi.advanceTimersByTime(99);
    expect(FakeSocket.all.length).toBe(before + 1);
    c.stop();
  });

  it('adds and removes mailboxes while running; a refused subscription does not drop the others', () => {
    const { c, got } = make();
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.frame({ t: 'pong', rid: 'hello' });
    const second = { mailboxId: 'EEEEEEEEEEEEEEEEEEEEEE', secret: 'F'.repeat(43) };
    c.addMailbox(second);
    expect(s.sent.at(-1)).toMatchObject({ t: 'sub', ...second });
    s.frame({ t: 'error', rid: `sub:${second.mailboxId}`, code: 'not_found' });
    expect(c.connectionState).toBe('online');
    s.frame({ t: 'msg', mailboxId: second.mailboxId, id: 'CCCCCCCCCCCCCCCCCCCCCC', kind: 'group', payload: 'AQID' });
    expect(got).toEqual([`${second.mailboxId}/CCCCCCCCCCCCCCCCCCCCCC`]);
    c.removeMailbox(second.mailboxId);
    expect(s.sent.at(-1)).toMatchObject({ t: 'unsub', mailboxId: second.mailboxId });
    // After a reconnect only the remaining mailbox is subscribed.
    s.onclose?.({});
    vi.advanceTimersByTime(1000);
    const s2 = FakeSocket.all.at(-1)!;
    s2.open();
    expect(s2.sent.filter((f) => f.t === 'sub').map((f) => f.mailboxId)).toEqual([mailbox.mailboxId]);
    c.stop();
  });

  it('a subscription the relay dropped for the rate (rate_limited names no frame) goes again; answered ones do not', () => {
    const got: string[] = [];
    const c = new RelayConnection({
      url: 'http://127.0.0.1:9',
      WebSocket: FakeSocket,
      mailboxes: [mailbox],
      onMessage: (mailboxId, m) => got.push(`${mailboxId}/${m.id}`),
      onState: () => undefined,
      heartbeatMs: 60_000,
      deadlineMs: 10_000,
    });
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.frame({ t: 'pong', rid: 'hello' });
    const second = { mailboxId: 'EEEEEEEEEEEEEEEEEEEEEE', secret: 'F'.repeat(43) };
    const third = { mailboxId: 'GGGGGGGGGGGGGGGGGGGGGG', secret: 'H'.repeat(43) };
    c.addMailbox(second);
    c.addMailbox(third);
    s.frame({ t: 'ok', rid: `sub:${mailbox.mailboxId}` });
    s.frame({ t: 'error', rid: `sub:${third.mailboxId}`, code: 'not_found', message: 'no' });
    // The relay did not process the second subscription.
    s.frame({ t: 'error', code: 'rate_limited', message: 'slow down' });
    s.frame({ t: 'error', code: 'rate_limited', message: 'slow down' });
    const subs = (): unknown[] => s.sent.filter((f) => f.t === 'sub').map((f) => f.mailboxId);
    expect(subs()).toEqual([mailbox.mailboxId, second.mailboxId, third.mailboxId]);
    vi.advanceTimersByTime(1000);
    expect(subs()).toEqual([mailbox.mailboxId, second.mailboxId, third.mailboxId, second.mailboxId]);
    s.frame({ t: 'ok', rid: `sub:${second.mailboxId}` });
    s.frame({ t: 'error', code: 'rate_limited', message: 'slow down' });
    vi.advanceTimersByTime(1000);
    expect(subs()).toHaveLength(4);
    s.frame({ t: 'msg', mailboxId: second.mailboxId, id: 'CCCCCCCCCCCCCCCCCCCCCC', kind: 'group', payload: 'AQID' });
    expect(got).toEqual([`${second.mailboxId}/CCCCCCCCCCCCCCCCCCCCCC`]);
    c.stop();
  });

  it('paces frames (at most 20 a second) so many subscriptions after a reconnect are not rate-limited away', () => {
    const many = Array.from({ length: 45 }, (_, i) => ({ mailboxId: `M${String(i).padStart(21, '0')}`, secret: 'S'.repeat(43) }));
    const c = new RelayConnection({
      url: 'http://127.0.0.1:9',
      WebSocket: FakeSocket,
      mailboxes: many,
      onMessage: () => undefined,
      onState: () => undefined,
      heartbeatMs: 60_000,
      deadlineMs: 10_000,
    });
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    expect(s.sent).toHaveLength(20);
    vi.advanceTimersByTime(1000);
    expect(s.sent).toHaveLength(40);
    vi.advanceTimersByTime(1000);
    expect(s.sent).toHaveLength(46);
    expect(new Set(s.sent.filter((f) => f.t === 'sub').map((f) => f.mailboxId)).size).toBe(45);
    c.stop();
  });

  it('a failed attempt says offline, and the quiet retries after it do not flip the state back and forth', () => {
    const { c, states } = make();
    c.start();
    expect(states).toEqual(['connecting']);
    FakeSocket.all[0]!.onclose?.({});
    expect(c.connectionState).toBe('offline');
    for (let i = 0; i < 4; i++) {
      const before = FakeSocket.all.length;
      while (FakeSocket.all.length === before) vi.advanceTimersByTime(1);
      FakeSocket.all.at(-1)!.onerror?.({});
    }
    expect(states).toEqual(['connecting', 'offline']);
    c.stop();
  });

  it('nudge (Retry now, the browser back online) connects at once, says connecting, and starts the back-off over', () => {
    const { c, states } = make();
    c.start();
    for (let i = 0; i < 5; i++) {
      const before = FakeSocket.all.length;
      FakeSocket.all.at(-1)!.onclose?.({});
      while (FakeSocket.all.length === before) vi.advanceTimersByTime(1);
    }
    FakeSocket.all.at(-1)!.onclose?.({});
    expect(c.connectionState).toBe('offline');
    const before = FakeSocket.all.length;
    c.nudge();
    expect(FakeSocket.all.length).toBe(before + 1);
    expect(c.connectionState).toBe('connecting');
    // It fails too: the next wait is the first step of the back-off again (≤ 100 ms), not the cap.
    FakeSocket.all.at(-1)!.onclose?.({});
    expect(states.at(-1)).toBe('offline');
    vi.advanceTimersByTime(100);
    expect(FakeSocket.all.length).toBe(before + 2);
    // A nudge while a quiet attempt is in flight keeps that attempt and says so.
    c.nudge();
    expect(FakeSocket.all.length).toBe(before + 2);
    expect(c.connectionState).toBe('connecting');
    c.stop();
  });

  it('by default the back-off is capped at a few seconds, so a relay that is back is found within them', () => {
    expect(BACKOFF_MAX_MS).toBeLessThanOrEqual(5_000);
    const c = new RelayConnection({
      url: 'http://127.0.0.1:9',
      WebSocket: FakeSocket,
      mailboxes: [mailbox],
      onMessage: () => undefined,
      onState: () => undefined,
      random: () => 0.999,
    });
    c.start();
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      const before = FakeSocket.all.length;
      FakeSocket.all.at(-1)!.onclose?.({});
      const t = Date.now();
      while (FakeSocket.all.length === before) vi.advanceTimersByTime(10);
      delays.push(Date.now() - t);
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(BACKOFF_MAX_MS);
    expect(delays.at(-1)).toBeGreaterThan(BACKOFF_MAX_MS / 2);
    c.stop();
  });

  it('backoffDelay stays within [0, min(cap, base·2^n)]', () => {
    for (let n = 0; n < 40; n++) {
      const d = backoffDelay(n, 500, 60_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(60_000, 500 * 2 ** n));
    }
    expect(backoffDelay(3, 500, 60_000, () => 0)).toBe(0);
  });

  it('parseDelivered rejects anything that is not exactly a relay message', () => {
    const ok = { id: 'CCCCCCCCCCCCCCCCCCCCCC', kind: 'welcome', payload: 'AQID' };
    expect(parseDelivered(ok).payload).toEqual(new Uint8Array([1, 2, 3]));
    for (const bad of [null, [], { ...ok, id: 'x' }, { ...ok, kind: 'other' }, { ...ok, payload: 'AQID=' }, { ...ok, payload: 7 }]) {
      expect(() => parseDelivered(bad)).toThrow(/malformed/);
    }
  });
});
