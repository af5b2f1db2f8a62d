/**
 * The authenticated exchange that opens a link: CPace (cpace.ts) keyed by
 * the code's secret, explicit key confirmation both ways, then the keys of
 * the secure channel and a short confirmation string both devices show.
 *
 *   existing device (initiator A, joined the slot)       new device (responder B, opened it)
 *     M1 = 1 | 1 | sid (16) | Ya (32)          ──────▶
 *                                               ◀──────  M2 = 1 | 2 | Yb (32) | Tb (64)
 *     check Tb (else ABORT, wrong-code)
 *     M3 = 1 | 3 | Ta (64)                     ──────▶   check Ta (else wrong-code)
 *   ABORT = 1 | 255 (unauthenticated: it can only stop a link, which the relay can anyway)
 *
 * CI binds the run to the slot; ADa/ADb name the roles, so a message cannot
 * be reflected back to its sender. The initiator picks sid (the draft's
 * fallback when the first message comes from A). Then
 *   HKDF-SHA512(ISK, salt = sid, "microchat link v1 keys") → A→B key | B→A key | confirmation
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../bytes.ts';
import type { LinkCode } from './code.ts';
import { CpaceParty, confirmationTag, lvCat, macKey, tagMatches } from './cpace.ts';
import { LinkError } from './errors.ts';
import { SecureChannel } from './secure-channel.ts';
import type { LinkTransport } from './transport.ts';

const enc = new TextEncoder();
const VERSION = 1;
const M1 = 1;
const M2 = 2;
const M3 = 3;
const ABORT = 255;
const AD_EXISTING = enc.encode('microchat link v1 existing device');
const AD_NEW = enc.encode('microchat link v1 new device');
const KEYS_INFO = enc.encode('microchat link v1 keys');

export interface OpenedLink {
  channel: SecureChannel;
  /** Six digits, shown on both devices for the person to compare ("123 456"). */
  confirmation: string;
}

function channelId(slot: number): Uint8Array {
  return lvCat(enc.encode('microchat link v1'), Uint8Array.of(slot >>> 16, (slot >>> 8) & 0xff, slot & 0xff));
}

function message(type: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(VERSION, type), ...parts);
}

/** Parses a handshake message of exactly `length` bytes after its type, or says why not. */
function expect(raw: Uint8Array, type: number, length: number): Uint8Array {
  if (raw.length === 2 && raw[0] === VERSION && raw[1] === ABORT) throw new LinkError('wrong-code', 'the other device did not accept the code');
  if (raw.length !== 2 + length || raw[0] !== VERSION || raw[1] !== type) throw new LinkError('malformed', 'the other device sent something unexpected');
  return raw.subarray(2);
}

function derive(isk: Uint8Array, sid: Uint8Array, transport: LinkTransport, role: 'initiator' | 'responder'): OpenedLink {
  const okm = hkdf(sha512, isk, sid, KEYS_INFO, 72);
  const a2b = okm.slice(0, 32);
  const b2a = okm.slice(32, 64);
  const n = new DataView(okm.buffer, okm.byteOffset + 64, 8).getBigUint64(0) % 1_000_000n;
  okm.fill(0);
  isk.fill(0);
  const digits = n.toString().padStart(6, '0');
  const channel = role === 'initiator' ? new SecureChannel(transport, a2b, b2a) : new SecureChannel(transport, b2a, a2b);
  return { channel, confirmation: `${digits.slice(0, 3)} ${digits.slice(3)}` };
}

async function refuse(transport: LinkTransport, err: LinkError): Promise<never> {
  await transport.send(message(ABORT)).catch(() => undefined);
  await transport.close();
  throw err;
}

/** The existing device, after joining the slot the code names. */
export async function openAsExisting(transport: LinkTransport, code: LinkCode, timeoutMs: number): Promise<OpenedLink> {
  const sid = crypto.getRandomValues(new Uint8Array(16));
  const input = { prs: code.secret, ci: channelId(code.slot), sid, ad: AD_EXISTING };
  const party = new CpaceParty(input);
  await transport.send(message(M1, sid, party.share));
  const m2 = expect(await transport.receive(timeoutMs), M2, 32 + 64);
  const yb = m2.slice(0, 32);
  const isk = party.finish('initiator', yb, AD_NEW);
  if (isk === null) return refuse(transport, new LinkError('wrong-code', 'the other device sent an invalid key share'));
  const key = macKey(sid, isk);
  if (!tagMatches(key, yb, AD_NEW, m2.subarray(32))) return refuse(transport, new LinkError('wrong-code', 'the code does not match the other device'));
  await transport.send(message(M3, confirmationTag(key, party.share, AD_EXISTING)));
  return derive(isk, sid, transport, 'initiator');
}

/** The new device, on the slot it opened: waits for the existing device's first message. */
export async function openAsNew(transport: LinkTransport, code: LinkCode, timeoutMs: number): Promise<OpenedLink> {
  const m1 = expect(await transport.receive(timeoutMs), M1, 16 + 32);
  const sid = m1.slice(0, 16);
  const ya = m1.slice(16);
  const party = new CpaceParty({ prs: code.secret, ci: channelId(code.slot), sid, ad: AD_NEW });
  const isk = party.finish('responder', ya, AD_EXISTING);
  if (isk === null) return refuse(transport, new LinkError('wrong-code', 'the other device sent an invalid key share'));
  const key = macKey(sid, isk);
  await transport.send(message(M2, party.share, confirmationTag(key, party.share, AD_NEW)));
  const m3 = expect(await transport.receive(timeoutMs), M3, 64);
  if (!tagMatches(key, ya, AD_EXISTING, m3)) return refuse(transport, new LinkError('wrong-code', 'the code does not match the other device'));
  return derive(isk, sid, transport, 'responder');
}
