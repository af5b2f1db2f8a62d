// The link handshake (CPace + confirmation) and the secure channel after it, over an in-memory
// transport that a test can tap like a hostile relay: the right code opens the same channel and
// the same confirmation on both sides; a wrong code fails on both; tampered, replayed, dropped or
// reordered messages break the channel; the link code reads back what it wrote and catches typos.
import { describe, expect, it } from 'vitest';
import { formatLinkCode, newLinkCode, parseLinkCode, type LinkCode } from '../../../lib/background/linking/code.ts';
import { LinkError } from '../../../lib/background/linking/errors.ts';
import { openAsExisting, openAsNew, type OpenedLink } from '../../../lib/background/linking/handshake.ts';
import { SecureChannel } from '../../../lib/background/linking/secure-channel.ts';
import { memoryTransportPair } from '../../../lib/background/linking/transport.ts';

const T = 2_000;

async function both(codeNew: LinkCode, codeExisting: LinkCode, pair = memoryTransportPair()): Promise<[PromiseSettledResult<OpenedLink>, PromiseSettledResult<OpenedLink>]> {
  const [a, b] = pair;
  return Promise.all([Promise.allSettled([openAsExisting(a, codeExisting, T)]), Promise.allSettled([openAsNew(b, codeNew, T)])]).then(([[x], [y]]) => [x!, y!]);
}

const code = (r: PromiseSettledResult<unknown>): string => (r.status === 'rejected' && r.reason instanceof LinkError ? r.reason.code : `not a LinkError: ${String(r.status === 'rejected' ? r.reason : 'ok')}`);

describe('link code', () => {
  it('round-trips, reads sloppy typing, and catches typos before the relay sees anything', () => {
    for (let i = 0; i < 50; i++) {
      const c = newLinkCode(Math.floor(Math.random() * 2 ** 20));
      const text = formatLinkCode(c);
      expect(text).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}$/);
      expect(parseLinkCode(text)).toEqual(c);
      expect(parseLinkCode(` ${text.toLowerCase().replace(/-/g, ' ')} `)).toEqual(c);
    }
    const c = newLinkCode(12345, () => new Uint8Array([1, 2, 3, 4, 5]));
    const text = formatLinkCode(c);
    expect(parseLinkCode(text.replace(/0/g, 'O').replace(/1/g, 'l'))).toEqual(c);
    // Every single-symbol change is caught by the check (or changes the length/alphabet).
    let caught = 0;
    const plain = text.replace(/-/g, '');
    for (let i = 0; i < plain.length; i++) {
      const other = plain[i] === 'Z' ? 'Y' : 'Z';
      try {
        parseLinkCode(plain.slice(0, i) + other + plain.slice(i + 1));
      } catch (err) {
        if (err instanceof LinkError && err.code === 'bad-code') caught++;
      }
    }
    expect(caught).toBeGreaterThanOrEqual(plain.length - 1);
    for (const bad of ['', 'ABCD-EFGH-JKMN', 'ABCD-EFGH-JKMNPQ', 'ABCD-EFGH-JKMNU']) expect(() => parseLinkCode(bad)).toThrow(LinkError);
  });
});

describe('link handshake', () => {
  it('the right code opens the same channel with the same confirmation on both devices', async () => {
    const c = newLinkCode(7);
    const [x, y] = await both(c, c);
    if (x.status !== 'fulfilled' || y.status !== 'fulfilled') throw new Error('handshake failed');
    expect(x.value.confirmation).toMatch(/^\d{3} \d{3}$/);
    expect(x.value.confirmation).toBe(y.value.confirmation);
    const big = crypto.getRandomValues(new Uint8Array(65536));
    const message = new Uint8Array(200_000);
    for (let i = 0; i < message.length; i += big.length) message.set(big.subarray(0, Math.min(big.length, message.length - i)), i);
    await x.value.channel.send(message);
    await x.value.channel.send(new Uint8Array(0));
    expect(await y.value.channel.receive(T)).toEqual(message);
    expect(await y.value.channel.receive(T)).toEqual(new Uint8Array(0));
    await y.value.channel.send(new TextEncoder().encode('back'));
    expect(new TextDecoder().decode(await x.value.channel.receive(T))).toBe('back');
  });

  it('a wrong code fails on both devices, with wrong-code', async () => {
    const c = newLinkCode(7);
    const wrong = { slot: 7, secret: Uint8Array.from(c.secret, (b, i) => (i === 0 ? b ^ 1 : b)) };
    const [x, y] = await both(c, wrong);
    expect(code(x)).toBe('wrong-code');
    expect(code(y)).toBe('wrong-code');
  });

  it('the same secret on another slot is another password (CI binds the slot)', async () => {
    const c = newLinkCode(7);
    const [x, y] = await both(c, { slot: 8, secret: c.secret });
    expect(code(x)).toBe('wrong-code');
    expect(code(y)).toBe('wrong-code');
  });

  it('a relay that swaps in its own share, or alters a tag, is caught as a wrong code', async () => {
    const c = newLinkCode(9);
    for (const [from, at] of [['a', 20], ['b', 5], ['b', 40], ['a', 10]] as const) {
      let n = 0;
      const pair = memoryTransportPair((f, m) => {
        if (f === from && n++ === 0) m[at] = m[at]! ^ 0x40;
        return m;
      });
      const [x, y] = await both(c, c, pair);
      expect([code(x), code(y)]).toContain('wrong-code');
      expect(x.status === 'fulfilled' && y.status === 'fulfilled').toBe(false);
    }
  });

  it('a malformed handshake message is refused as malformed', async () => {
    const [a, b] = memoryTransportPair();
    const opening = openAsNew(b, newLinkCode(1), T);
    await a.send(Uint8Array.of(1, 1, 0));
    await expect(opening).rejects.toMatchObject({ code: 'malformed' });
  });

  it('times out when nobody comes', async () => {
    const [, b] = memoryTransportPair();
    await expect(openAsNew(b, newLinkCode(1), 50)).rejects.toMatchObject({ code: 'timeout' });
  });
});

describe('secure channel', () => {
  type Tap = (from: 'a' | 'b', message: Uint8Array) => Uint8Array | Uint8Array[] | null;
  async function opened(tap: Tap): Promise<[OpenedLink, OpenedLink]> {
    const c = newLinkCode(3);
    let armed = false;
    const pair = memoryTransportPair((f, m) => (armed ? tap(f, m) : m));
    const [x, y] = await both(c, c, pair);
    if (x.status !== 'fulfilled' || y.status !== 'fulfilled') throw new Error('handshake failed');
    armed = true;
    return [x.value, y.value];
  }
  const msg = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('refuses a tampered frame, and stays broken', async () => {
    const [x, y] = await opened((_, m) => {
      m[m.length - 1] = m[m.length - 1]! ^ 1;
      return m;
    });
    await x.channel.send(msg('hello'));
    await expect(y.channel.receive(T)).rejects.toMatchObject({ code: 'tampered' });
    await expect(y.channel.receive(T)).rejects.toMatchObject({ code: 'tampered' });
  });

  it('refuses a replayed frame', async () => {
    const [x, y] = await opened((_, m) => [m, Uint8Array.from(m)]);
    await x.channel.send(msg('pay me'));
    expect(await y.channel.receive(T)).toEqual(msg('pay me'));
    await expect(y.channel.receive(T)).rejects.toMatchObject({ code: 'tampered' });
  });

  it('refuses reordered and dropped frames', async () => {
    let held: Uint8Array | null = null;
    const [x, y] = await opened((_, m) => {
      if (held === null) {
        held = m;
        return null;
      }
      return [m, held];
    });
    await x.channel.send(msg('first'));
    await x.channel.send(msg('second'));
    await expect(y.channel.receive(T)).rejects.toMatchObject({ code: 'tampered' });

    let dropped = false;
    const [p, q] = await opened((_, m) => {
      if (!dropped) {
        dropped = true;
        return null;
      }
      return m;
    });
    await p.channel.send(msg('lost'));
    await p.channel.send(msg('next'));
    await expect(q.channel.receive(T)).rejects.toMatchObject({ code: 'tampered' });
  });

  it('a frame from one direction cannot be reflected back to its sender', async () => {
    let stolen: Uint8Array | null = null;
    const [x] = await opened((f, m) => {
      if (f === 'a') stolen = Uint8Array.from(m);
      return m;
    });
    await x.channel.send(msg('to b'));
    // A channel with x's own keys receives under the b→a key: x's own a→b frame does not open there.
    expect(stolen).not.toBeNull();
    const reflect = memoryTransportPair();
    const keys = x.channel as unknown as { sendKey: Uint8Array; recvKey: Uint8Array };
    const victim = new SecureChannel(reflect[1], keys.sendKey, keys.recvKey);
    await reflect[0].send(stolen!);
    await expect(victim.receive(T)).rejects.toMatchObject({ code: 'tampered' });
  });
});
