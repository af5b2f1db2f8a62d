// Pieces of the chat that handle hostile input: the application-message
// format inside MLS, invite links and blobs, and the safety-code format.
import { describe, expect, it } from 'vitest';
import { encodeAppMessage, parseAppMessage } from '../../lib/extension/app-messages.ts';
import { formatInviteLink, openInvite, parseInviteLink, sealInvite } from '../../lib/extension/invite.ts';
import { digitGroups, keyFingerprint, memberIdOf, safetyCode } from '../../lib/extension/safety-code.ts';

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

describe('application messages', () => {
  it('round-trips each kind', () => {
    const msgs = [
      { v: 1, t: 'text', id: 'abc', text: 'hi\nthere', at: 5 },
      { v: 1, t: 'rename', id: 'abc', name: 'New', at: 5 },
      { v: 1, t: 'invite', id: 'abc', at: 5, inviteId: 'A'.repeat(22), key: 'B'.repeat(43), writeKey: 'C'.repeat(43), expiresAt: 9, oneTime: true },
      { v: 1, t: 'close', id: 'abc', at: 5 },
    ] as const;
    for (const m of msgs) expect(parseAppMessage(encodeAppMessage(m))).toEqual(m);
  });

  it('rejects anything else: other versions, unknown kinds, wrong types, oversize text, bad invite keys, non-UTF-8', () => {
    const base = { v: 1, t: 'text', id: 'abc', text: 'x', at: 1 };
    for (const bad of [
      { ...base, v: 2 },
      { ...base, t: 'poke' },
      { ...base, id: 'has space' },
      { ...base, at: -1 },
      { ...base, text: 7 },
      { ...base, text: 'x'.repeat(4001) },
      { v: 1, t: 'rename', id: 'a', name: '   ', at: 1 },
      { v: 1, t: 'invite', id: 'a', at: 1, inviteId: 'short', key: 'B'.repeat(43), writeKey: 'C'.repeat(43), expiresAt: 9, oneTime: true },
      { v: 1, t: 'invite', id: 'a', at: 1, inviteId: 'A'.repeat(22), key: 'B'.repeat(42), writeKey: 'C'.repeat(43), expiresAt: 9, oneTime: true },
      [],
      null,
    ]) {
      expect(parseAppMessage(enc(bad))).toBeNull();
    }
    expect(parseAppMessage(new Uint8Array([0xff, 0xfe]))).toBeNull();
    expect(parseAppMessage(new TextEncoder().encode('{not json'))).toBeNull();
  });
});

describe('invite links', () => {
  const key = new Uint8Array(32).fill(7);
  const inviteId = 'AAAAAAAAAAAAAAAAAAAAAA';

  it('format and parse: relay origin, invite id and key in the fragment', () => {
    const link = formatInviteLink({ relayUrl: 'https://relay.example.org', inviteId, key });
    expect(link).toBe(`https://relay.example.org/join#i=${inviteId}&k=${Buffer.from(key).toString('base64url')}`);
    expect(parseInviteLink(`  ${link} `)).toEqual({ relayUrl: 'https://relay.example.org', inviteId, key });
  });

  it('rejects malformed links', () => {
    const k = Buffer.from(key).toString('base64url');
    for (const bad of [
      'not a url',
      `https://r.example/other#i=${inviteId}&k=${k}`,
      `https://r.example/join?x=1#i=${inviteId}&k=${k}`,
      `https://r.example/join#i=${inviteId}`,
      `https://r.example/join#i=short&k=${k}`,
      `https://r.example/join#i=${inviteId}&k=${k}A`,
      `javascript://r.example/join#i=${inviteId}&k=${k}`,
    ]) {
      expect(() => parseInviteLink(bad)).toThrow(/not a MicroChat invite link/);
    }
  });

  it('blobs open only with the right key and invite id', () => {
    const content = { groupInfo: new Uint8Array([1, 2, 3]), queue: new Uint8Array(32).fill(4), capability: new Uint8Array(32).fill(5), name: 'Trip' };
    const blob = sealInvite(key, inviteId, content);
    expect(openInvite(key, inviteId, blob)).toEqual(content);
    expect(() => openInvite(new Uint8Array(32), inviteId, blob)).toThrow(/could not be opened/);
    expect(() => openInvite(key, 'BBBBBBBBBBBBBBBBBBBBBB', blob)).toThrow(/could not be opened/);
    const tampered = blob.slice();
    tampered[20]! ^= 1;
    expect(() => openInvite(key, inviteId, tampered)).toThrow(/could not be opened/);
  });
});

describe('safety codes', () => {
  const auth = new Uint8Array(32).fill(1);
  const tree = new Uint8Array(32).fill(2);
  const keys = [new Uint8Array(32).fill(3), new Uint8Array(32).fill(4)];

  it('are twelve groups of five digits, deterministic, and change with any input', () => {
    const code = safetyCode(auth, tree, keys);
    expect(code).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(safetyCode(auth, tree, keys)).toBe(code);
    expect(safetyCode(new Uint8Array(32).fill(9), tree, keys)).not.toBe(code);
    expect(safetyCode(auth, new Uint8Array(32), keys)).not.toBe(code);
    expect(safetyCode(auth, tree, [keys[0]!])).not.toBe(code);
    expect(safetyCode(auth, tree, [keys[1]!, keys[0]!])).not.toBe(code);
  });

  it('fingerprints and member ids are stable per key', () => {
    expect(keyFingerprint(keys[0]!)).toMatch(/^(\d{5} ){5}\d{5}$/);
    expect(keyFingerprint(keys[0]!)).not.toBe(keyFingerprint(keys[1]!));
    expect(memberIdOf(keys[0]!)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(digitGroups(new Uint8Array(10).fill(0), 2)).toBe('00000 00000');
  });
});
