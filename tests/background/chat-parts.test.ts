// Pieces of the chat that handle hostile input: the application-message
// format inside MLS, invite links and blobs, and the safety-code format.
import { describe, expect, it } from 'vitest';
import { encodeAppMessage, parseAppMessage } from '../../lib/background/app-messages.ts';
import { formatInviteLink, newInviteSigningKey, openInvite, parseInviteLink, sealInvite } from '../../lib/background/invite.ts';
import { digitGroups, keyFingerprint, memberIdOf, safetyCode } from '../../lib/background/safety-code.ts';

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

describe('application messages', () => {
  it('round-trips each kind', () => {
    const msgs = [
      { v: 1, t: 'text', id: 'abc', text: 'hi\nthere', at: 5 },
      { v: 1, t: 'rename', id: 'abc', name: 'New', at: 5 },
      {
        v: 1,
        t: 'invite',
        id: 'abc',
        at: 5,
        inviteId: 'A'.repeat(22),
        key: 'B'.repeat(43),
        writeKey: 'C'.repeat(43),
        signingKey: 'D'.repeat(43),
        expiresAt: 9,
        oneTime: true,
      },
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
      { v: 1, t: 'invite', id: 'a', at: 1, inviteId: 'short', key: 'B'.repeat(43), writeKey: 'C'.repeat(43), signingKey: 'D'.repeat(43), expiresAt: 9, oneTime: true },
      { v: 1, t: 'invite', id: 'a', at: 1, inviteId: 'A'.repeat(22), key: 'B'.repeat(42), writeKey: 'C'.repeat(43), signingKey: 'D'.repeat(43), expiresAt: 9, oneTime: true },
      // No signing key: members could not republish a blob joiners can check.
      { v: 1, t: 'invite', id: 'a', at: 1, inviteId: 'A'.repeat(22), key: 'B'.repeat(43), writeKey: 'C'.repeat(43), expiresAt: 9, oneTime: true },
      [],
      null,
    ]) {
      expect(parseAppMessage(enc(bad))).toBeNull();
    }
    expect(parseAppMessage(new Uint8Array([0xff, 0xfe]))).toBeNull();
    expect(parseAppMessage(new TextEncoder().encode('{not json'))).toBeNull();
  });
});

describe('invite codes', () => {
  const key = new Uint8Array(32).fill(7);
  const inviteId = 'AAAAAAAAAAAAAAAAAAAAAA';
  const { signingKey, verifyKey } = newInviteSigningKey();
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

  it('format and parse: a microchat: code with relay origin, invite id, key and verify key, not a web address', () => {
    const link = formatInviteLink({ relayUrl: 'https://relay.example.org', inviteId, key, verifyKey });
    expect(link).toBe(`microchat:join?r=https%3A%2F%2Frelay.example.org&i=${inviteId}&k=${b64(key)}&v=${b64(verifyKey)}`);
    expect(link).not.toMatch(/^https?:/);
    expect(parseInviteLink(`  ${link} `)).toEqual({ relayUrl: 'https://relay.example.org', inviteId, key, verifyKey });
  });

  it('refuses an old-format https link with a clear message: it cannot be verified', () => {
    expect(() => parseInviteLink(`https://r.example/join#i=${inviteId}&k=${b64(key)}`)).toThrow(/older MicroChat; ask for a new one/);
    expect(() => parseInviteLink(`http://127.0.0.1:8787/join#i=${inviteId}&k=${b64(key)}`)).toThrow(/older MicroChat/);
  });

  it('rejects malformed codes', () => {
    const k = b64(key);
    const v = b64(verifyKey);
    const r = 'https%3A%2F%2Fr.example';
    for (const bad of [
      'not a code',
      `microchat:join?r=${r}&i=${inviteId}&k=${k}`,
      `microchat:join?r=${r}&i=short&k=${k}&v=${v}`,
      `microchat:join?r=${r}&i=${inviteId}&k=${k}A&v=${v}`,
      `microchat:join?r=${r}&i=${inviteId}&k=${k}&v=${v}A`,
      `microchat:join?r=https%3A%2F%2Fr.example%2Fpath&i=${inviteId}&k=${k}&v=${v}`,
      `microchat:join?r=javascript%3Aalert(1)&i=${inviteId}&k=${k}&v=${v}`,
      `microchat:join?r=${r}&i=${inviteId}&k=${k}&v=${v}&x=1`,
      `microchat:other?r=${r}&i=${inviteId}&k=${k}&v=${v}`,
    ]) {
      expect(() => parseInviteLink(bad), bad).toThrow(/not a MicroChat invite code/);
    }
  });

  it('blobs open only with the right key and invite id, and only when signed by the invite key the code names', async () => {
    const content = { groupInfo: new Uint8Array([1, 2, 3]), queue: new Uint8Array(32).fill(4), capability: new Uint8Array(32).fill(5), name: 'Trip' };
    const blob = await sealInvite(key, inviteId, content, signingKey);
    await expect(openInvite(key, inviteId, blob, verifyKey)).resolves.toEqual(content);
    await expect(openInvite(new Uint8Array(32), inviteId, blob, verifyKey)).rejects.toThrow(/tampered with/);
    await expect(openInvite(key, 'BBBBBBBBBBBBBBBBBBBBBB', blob, verifyKey)).rejects.toThrow(/tampered with/);
    const tampered = blob.slice();
    tampered[20]! ^= 1;
    await expect(openInvite(key, inviteId, tampered, verifyKey)).rejects.toThrow(/tampered with/);
    // Encrypted under the right key, but signed by another invite key.
    const other = newInviteSigningKey();
    await expect(openInvite(key, inviteId, await sealInvite(key, inviteId, content, other.signingKey), verifyKey)).rejects.toThrow(/tampered with/);
    // A signature made for another invite id does not carry over.
    const moved = await sealInvite(key, 'BBBBBBBBBBBBBBBBBBBBBB', content, signingKey);
    await expect(openInvite(key, 'BBBBBBBBBBBBBBBBBBBBBB', moved, other.verifyKey)).rejects.toThrow(/tampered with/);
    await expect(openInvite(key, inviteId, blob, new Uint8Array(32))).rejects.toThrow(/tampered with/);
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
