// The handover over an opened link (handover.ts, handover-messages.ts), with fake ports: the new
// device gets the identity, a roster that vouches for it, name, settings, conversations and (only
// with consent) the history, with progress on both sides; a roster that does not vouch for the new
// device, an out-of-turn or malformed message, or more history than announced stop both sides and
// keep nothing; the device name comes from the user agent.
import { describe, expect, it } from 'vitest';
import { newLinkCode } from '../../../lib/background/linking/code.ts';
import { deviceNameFromUserAgent } from '../../../lib/background/linking/device-name.ts';
import { LinkError } from '../../../lib/background/linking/errors.ts';
import { handOver, takeOver, type HandoverProgress } from '../../../lib/background/linking/handover.ts';
import { encodeHandover, parseHandover } from '../../../lib/background/linking/handover-messages.ts';
import { openAsExisting, openAsNew, type OpenedLink } from '../../../lib/background/linking/handshake.ts';
import { memoryTransportPair } from '../../../lib/background/linking/transport.ts';
import { FakeAccount, FakeDirectory, FakeHistory, FakeIdentity, sampleAccount, sampleHistory } from '../../support/link-fakes.ts';

const T = 3_000;

async function link(): Promise<[OpenedLink, OpenedLink]> {
  const c = newLinkCode(5);
  const [a, b] = memoryTransportPair();
  return Promise.all([openAsExisting(a, c, T), openAsNew(b, c, T)]);
}

function devices(history = sampleHistory(3, 400)) {
  return {
    existing: { identity: new FakeIdentity(true), account: new FakeAccount(sampleAccount(3)), history: new FakeHistory(history) },
    fresh: { identity: new FakeIdentity(false), directory: new FakeDirectory(), account: new FakeAccount(null), history: new FakeHistory() },
  };
}

describe('handover', () => {
  it('hands the account and the history over, with progress on both devices', async () => {
    const [x, y] = await link();
    const { existing, fresh } = devices();
    const pa: HandoverProgress[] = [];
    const pb: HandoverProgress[] = [];
    const [device, account] = await Promise.all([
      handOver(x.channel, existing, { timeoutMs: T, sendHistory: true, onProgress: (p) => pa.push(p) }),
      takeOver(y.channel, fresh, { timeoutMs: T, deviceName: 'Firefox on Linux', onProgress: (p) => pb.push(p) }),
    ]);
    expect(device.name).toBe('Firefox on Linux');
    expect(device.address).toEqual(fresh.directory.address);
    expect(device.deviceKey).toEqual(fresh.identity.ownKey);
    expect(existing.identity.signed).toHaveLength(1);
    expect(fresh.identity.sameIdentity(existing.identity)).toBe(true);
    expect(account).toEqual(sampleAccount(3));
    expect(fresh.account.imported).toEqual(sampleAccount(3));
    expect(fresh.history.kept.size).toBe(1200);
    expect([...fresh.history.kept.values()].sort((p, q) => p.id.localeCompare(q.id))).toEqual([...existing.history.records].sort((p, q) => p.id.localeCompare(q.id)));
    for (const p of [pa, pb]) {
      expect(p[0]).toEqual({ phase: 'account' });
      expect(p.filter((e) => e.phase === 'history').at(-1)).toEqual({ phase: 'history', done: 1200, total: 1200 });
      expect(p.at(-1)).toEqual({ phase: 'finished' });
    }
  });

  it('sends no history without consent', async () => {
    const [x, y] = await link();
    const { existing, fresh } = devices();
    await Promise.all([handOver(x.channel, existing, { timeoutMs: T, sendHistory: false }), takeOver(y.channel, fresh, { timeoutMs: T, deviceName: 'Chrome on Windows' })]);
    expect(fresh.history.kept.size).toBe(0);
    expect(fresh.account.imported?.conversations).toHaveLength(3);
  });

  it('a roster that does not vouch for the new device: the new device keeps nothing, and both stop', async () => {
    const [x, y] = await link();
    const { existing, fresh } = devices();
    existing.identity.signRosterWith = async () => new TextEncoder().encode('[]');
    const [a, b] = await Promise.allSettled([handOver(x.channel, existing, { timeoutMs: T, sendHistory: true }), takeOver(y.channel, fresh, { timeoutMs: T, deviceName: 'x' })]);
    expect(b.status).toBe('rejected');
    expect(a.status === 'rejected' && a.reason instanceof LinkError && a.reason.code).toBe('aborted');
    expect(fresh.identity.identity).toBeNull();
    expect(fresh.account.imported).toBeNull();
    expect(fresh.history.kept.size).toBe(0);
  });

  it('refuses history beyond what was announced, and messages out of turn', async () => {
    const [x, y] = await link();
    const { fresh } = devices();
    const taking = takeOver(y.channel, fresh, { timeoutMs: T, deviceName: 'x' });
    parseHandover(await x.channel.receive(T));
    await x.channel.send(encodeHandover({ t: 'account', identity: new Uint8Array(64), roster: new TextEncoder().encode(JSON.stringify([])), account: sampleAccount(1), history: 1 }));
    await expect(taking).rejects.toThrow();

    const [p, q] = await link();
    const f2 = devices().fresh;
    f2.identity.importFromLink = async () => {};
    const taking2 = takeOver(q.channel, f2, { timeoutMs: T, deviceName: 'x' });
    await p.channel.receive(T);
    await p.channel.send(encodeHandover({ t: 'account', identity: new Uint8Array(64), roster: new Uint8Array(1), account: sampleAccount(1), history: 1 }));
    await p.channel.send(encodeHandover({ t: 'history', records: sampleHistory(1, 2) }));
    await expect(taking2).rejects.toMatchObject({ code: 'malformed' });
    // The new device told the existing one.
    expect(parseHandover(await p.channel.receive(T))).toEqual({ t: 'abort', reason: 'the handover failed' });

    const [r, s] = await link();
    const handing = handOver(r.channel, devices().existing, { timeoutMs: T, sendHistory: false });
    await s.channel.send(encodeHandover({ t: 'done' }));
    await expect(handing).rejects.toMatchObject({ code: 'malformed' });
  });

  it('parses strictly: unknown keys, wrong version, bad bytes, bad shapes', () => {
    const ok = encodeHandover({ t: 'device', device: { deviceKey: new Uint8Array(32).fill(1), name: 'Firefox on Linux', address: { accountId: 'a'.repeat(22), welcomeMailboxId: 'b'.repeat(22) } } });
    expect(parseHandover(ok).t).toBe('device');
    const o = JSON.parse(new TextDecoder().decode(ok)) as Record<string, unknown>;
    const bad = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    for (const v of [
      { ...o, extra: 1 },
      { ...o, v: 2 },
      { ...o, deviceKey: 'AAAA' },
      { ...o, name: '' },
      { ...o, name: 'x'.repeat(65) },
      { ...o, address: { accountId: 'a b', welcomeMailboxId: 'b' } },
      { ...o, address: { accountId: 'a', welcomeMailboxId: 'b', more: 1 } },
      { ...o, t: 'nope' },
      [o],
      null,
    ]) {
      expect(() => parseHandover(bad(v))).toThrow(LinkError);
    }
    expect(() => parseHandover(Uint8Array.of(0xff, 0xfe))).toThrow(LinkError);
    const acc = JSON.parse(new TextDecoder().decode(encodeHandover({ t: 'account', identity: new Uint8Array(8), roster: new Uint8Array(8), account: sampleAccount(2), history: 0 }))) as Record<string, unknown>;
    expect(() => parseHandover(bad({ ...acc, conversations: [{ id: 'c', name: 'x' }, { id: 'c', name: 'y' }] }))).toThrow(LinkError);
    expect(() => parseHandover(bad({ ...acc, settings: { notifications: true, notificationContent: 'all', readReceipts: true } }))).toThrow(LinkError);
    expect(() => parseHandover(bad({ ...acc, history: -1 }))).toThrow(LinkError);
    expect(() => parseHandover(bad({ v: 1, t: 'history', records: [] }))).toThrow(LinkError);
  });

  it('names the device from the user agent', () => {
    expect(deviceNameFromUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox on Linux');
    expect(deviceNameFromUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36')).toBe('Chrome on Windows');
    expect(deviceNameFromUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0')).toBe('Edge on macOS');
    expect(deviceNameFromUserAgent('Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36')).toBe('Chrome on Android');
    expect(deviceNameFromUserAgent('')).toBe('Browser');
  });
});

describe('handover of long texts', () => {
  it('splits a page of long messages so no channel message passes the limit', async () => {
    const [x, y] = await link();
    const long = sampleHistory(1, 500).map((r) => ({ ...r, text: '\u0001'.repeat(16 * 1024) }));
    const { existing, fresh } = devices(long);
    await Promise.all([handOver(x.channel, existing, { timeoutMs: T, sendHistory: true }), takeOver(y.channel, fresh, { timeoutMs: T, deviceName: 'x' })]);
    expect(fresh.history.kept.size).toBe(500);
  });
});
