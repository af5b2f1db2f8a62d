/**
 * The Welcome envelope (welcome-envelope.ts): details sealed under the new
 * epoch's exporter, per newcomer; everything about it parsed strictly.
 */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { createGroup, exportSecret, generateIdentity } from '../../lib/mls/group.ts';
import { randomBytes, randomId, toB64 } from '../../lib/bytes.ts';
import { HostileWelcome } from '../../lib/background/directory-errors.ts';
import { openDetails, parseEnvelope, sealWelcome } from '../../lib/background/welcome-envelope.ts';
import { newPseudonym } from '../../lib/background/member-names.ts';

const suite = getCipherSuite(1);
const details = { queue: toB64(randomBytes(32)), name: 'Club', mailbox: { mailboxId: randomId(), secret: toB64(randomBytes(32)) } };

async function group() {
  return createGroup(suite, await generateIdentity(suite, newPseudonym()));
}

/** Seal arbitrary bytes the way the envelope does (the documented derivation), to test what the parser accepts. */
async function sealRaw(state: Awaited<ReturnType<typeof group>>, ref: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
  const out = exportSecret(state, 'microchat welcome details', ref, suite.aead.keySize + suite.aead.nonceSize);
  return suite.aead.seal(out.slice(0, suite.aead.keySize), out.slice(suite.aead.keySize), new TextEncoder().encode('MicroChat welcome details v1'), plain);
}

describe('welcome envelope', () => {
  it('round-trips for the right state and KeyPackageRef', async () => {
    const g = await group();
    const ref = randomBytes(32);
    const welcome = randomBytes(100);
    const env = parseEnvelope(await sealWelcome(g, ref, welcome, details));
    expect(env.welcome).toEqual(welcome);
    expect(await openDetails(g, ref, env.details)).toEqual(details);
  });

  it('another newcomer (another ref) or another epoch cannot open them', async () => {
    const g = await group();
    const ref = randomBytes(32);
    const env = parseEnvelope(await sealWelcome(g, ref, randomBytes(10), details));
    await expect(openDetails(g, randomBytes(32), env.details)).rejects.toBeInstanceOf(HostileWelcome);
    await expect(openDetails(await group(), ref, env.details)).rejects.toBeInstanceOf(HostileWelcome);
    const flipped = env.details.slice();
    flipped[0]! ^= 1;
    await expect(openDetails(g, ref, flipped)).rejects.toBeInstanceOf(HostileWelcome);
  });

  it('refuses malformed envelopes: unknown version, truncation, trailing bytes', async () => {
    const g = await group();
    const good = await sealWelcome(g, randomBytes(32), randomBytes(10), details);
    const v2 = good.slice();
    v2[0] = 2;
    expect(() => parseEnvelope(v2)).toThrow(HostileWelcome);
    expect(() => parseEnvelope(good.slice(0, good.length - 1))).toThrow(HostileWelcome);
    expect(() => parseEnvelope(new Uint8Array([...good, 0]))).toThrow(HostileWelcome);
    expect(() => parseEnvelope(new Uint8Array(0))).toThrow(HostileWelcome);
  });

  it.each([
    ['not JSON', new TextEncoder().encode('{')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['an extra field', { v: 1, ...details, more: 1 }],
    ['another version', { ...details, v: 2 }],
    ['a short queue', { v: 1, ...details, queue: toB64(randomBytes(16)) }],
    ['a long name', { v: 1, ...details, name: 'x'.repeat(1001) }],
    ['a mailbox id that is no relay id', { v: 1, ...details, mailbox: { ...details.mailbox, mailboxId: '../x' } }],
    ['a short mailbox secret', { v: 1, ...details, mailbox: { ...details.mailbox, secret: toB64(randomBytes(8)) } }],
    ['an extra mailbox field', { v: 1, ...details, mailbox: { ...details.mailbox, x: 1 } }],
  ])('refuses details with %s', async (_, value) => {
    const g = await group();
    const ref = randomBytes(32);
    const plain = value instanceof Uint8Array ? value : new TextEncoder().encode(JSON.stringify(value));
    await expect(openDetails(g, ref, await sealRaw(g, ref, plain))).rejects.toBeInstanceOf(HostileWelcome);
  });

  it('accepts details sealed by the documented derivation (the format is pinned)', async () => {
    const g = await group();
    const ref = randomBytes(32);
    const sealed = await sealRaw(g, ref, new TextEncoder().encode(JSON.stringify({ v: 1, ...details })));
    expect(await openDetails(g, ref, sealed)).toEqual(details);
  });
});
