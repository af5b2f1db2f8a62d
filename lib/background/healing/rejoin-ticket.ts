/**
 * A RejoinTicket: what one device (or its backup) keeps per conversation to
 * get back in by resync (RFC 9420 §12.4.3.2) without any live member's help.
 * See docs/self-healing.md for the design and what each party learns.
 *
 *   ticket = "MCRJ" | version (1) | flags (1, bit 0: relay origin present)
 *            | [relay origin: u16 length | UTF-8]          http(s) origin only
 *            | group id: u8 length (1..255) | bytes        conversation id = base64url(group id)
 *            | slot id (16) | slot key (32) | slot verify key (32)   the rejoin slot (rejoin-slot.ts)
 *            | queue id (32) | queue capability (32)       as of the slot's epoch
 *            | own leaf index (u32)
 *            | signature public key: u8 length (1..133) | bytes
 *            | signature private key: u8 length (1..133) | bytes
 *            | credential identity: u16 length (1..1024) | bytes
 *
 * The signature key pair and credential are our stale leaf's: a resync may
 * remove only a leaf whose credential and signature key the joiner's new leaf
 * repeats (V-EC-6), so a ticket without them cannot heal anything. The ticket
 * is a secret: it lives in the sealed conversation record and in the backup,
 * which is sealed under the recovery key; it never goes to the relay.
 *
 * Decoding is strict: every length is bounded, nothing may follow the last
 * field, and every failure is a RejoinTicketError with a reason.
 */
import { toB64 } from '../../bytes.ts';

const MAGIC = [0x4d, 0x43, 0x52, 0x4a]; // "MCRJ"
const VERSION = 1;
const FLAG_RELAY = 0x01;
const MAX_KEY = 133; // an uncompressed P-521 point: the largest signature key of any suite
const MAX_CREDENTIAL = 1024;
const MAX_RELAY = 2048;

export interface RejoinTicket {
  relayUrl?: string;
  groupId: Uint8Array;
  slotId: Uint8Array;
  slotKey: Uint8Array;
  slotVerifyKey: Uint8Array;
  queue: Uint8Array;
  capability: Uint8Array;
  leafIndex: number;
  signaturePublicKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
  credentialIdentity: Uint8Array;
}

export type RejoinTicketProblem = 'truncated' | 'magic' | 'version' | 'flags' | 'length' | 'relay' | 'trailing';

export class RejoinTicketError extends Error {
  override readonly name = 'RejoinTicketError';
  constructor(readonly problem: RejoinTicketProblem) {
    super(`not a rejoin ticket (${problem})`);
  }
}

/** The conversation id a ticket is for (the base64url of its group id, as everywhere). */
export function ticketConversationId(t: RejoinTicket): string {
  return toB64(t.groupId);
}

function fixed(name: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length !== length) throw new RangeError(`${name}: expected ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function bounded(name: string, bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length < 1 || bytes.length > max) throw new RangeError(`${name}: expected 1..${max} bytes, got ${bytes.length}`);
  return bytes;
}

/** A relay origin as the invite codes carry it (http or https, nothing after the host). */
function isOrigin(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === text;
  } catch {
    return false; // not a URL
  }
}

export function encodeRejoinTicket(t: RejoinTicket): Uint8Array {
  const relay = t.relayUrl === undefined ? undefined : new TextEncoder().encode(t.relayUrl);
  if (t.relayUrl !== undefined && (!isOrigin(t.relayUrl) || relay!.length > MAX_RELAY)) throw new RangeError('relayUrl: expected an http(s) origin');
  if (!Number.isInteger(t.leafIndex) || t.leafIndex < 0 || t.leafIndex > 0xffffffff) throw new RangeError('leafIndex: expected a u32');
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC), Uint8Array.of(VERSION, relay === undefined ? 0 : FLAG_RELAY)];
  if (relay !== undefined) parts.push(u16(relay.length), relay);
  parts.push(Uint8Array.of(bounded('groupId', t.groupId, 255).length), t.groupId);
  parts.push(fixed('slotId', t.slotId, 16), fixed('slotKey', t.slotKey, 32), fixed('slotVerifyKey', t.slotVerifyKey, 32));
  parts.push(fixed('queue', t.queue, 32), fixed('capability', t.capability, 32));
  parts.push(Uint8Array.of(t.leafIndex >>> 24, (t.leafIndex >>> 16) & 0xff, (t.leafIndex >>> 8) & 0xff, t.leafIndex & 0xff));
  parts.push(Uint8Array.of(bounded('signaturePublicKey', t.signaturePublicKey, MAX_KEY).length), t.signaturePublicKey);
  parts.push(Uint8Array.of(bounded('signaturePrivateKey', t.signaturePrivateKey, MAX_KEY).length), t.signaturePrivateKey);
  parts.push(u16(bounded('credentialIdentity', t.credentialIdentity, MAX_CREDENTIAL).length), t.credentialIdentity);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

/** Strict: throws RejoinTicketError for anything but a whole, well-formed ticket. The result holds copies. */
export function decodeRejoinTicket(bytes: Uint8Array): RejoinTicket {
  let o = 0;
  const take = (n: number): Uint8Array => {
    if (o + n > bytes.length) throw new RejoinTicketError('truncated');
    const out = bytes.slice(o, o + n);
    o += n;
    return out;
  };
  const u8 = (): number => take(1)[0]!;
  const u16v = (): number => {
    const b = take(2);
    return (b[0]! << 8) | b[1]!;
  };
  const sized = (length: number, max: number): Uint8Array => {
    if (length < 1 || length > max) throw new RejoinTicketError('length');
    return take(length);
  };
  const magic = take(4);
  if (!MAGIC.every((m, i) => magic[i] === m)) throw new RejoinTicketError('magic');
  if (u8() !== VERSION) throw new RejoinTicketError('version');
  const flags = u8();
  if ((flags & ~FLAG_RELAY) !== 0) throw new RejoinTicketError('flags');
  let relayUrl: string | undefined;
  if ((flags & FLAG_RELAY) !== 0) {
    const raw = sized(u16v(), MAX_RELAY);
    try {
      relayUrl = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new RejoinTicketError('relay'); // not UTF-8
    }
    if (!isOrigin(relayUrl)) throw new RejoinTicketError('relay');
  }
  const groupId = sized(u8(), 255);
  const slotId = take(16);
  const slotKey = take(32);
  const slotVerifyKey = take(32);
  const queue = take(32);
  const capability = take(32);
  const li = take(4);
  const leafIndex = ((li[0]! << 24) >>> 0) + (li[1]! << 16) + (li[2]! << 8) + li[3]!;
  const signaturePublicKey = sized(u8(), MAX_KEY);
  const signaturePrivateKey = sized(u8(), MAX_KEY);
  const credentialIdentity = sized(u16v(), MAX_CREDENTIAL);
  if (o !== bytes.length) throw new RejoinTicketError('trailing');
  return {
    ...(relayUrl === undefined ? {} : { relayUrl }),
    groupId,
    slotId,
    slotKey,
    slotVerifyKey,
    queue,
    capability,
    leafIndex,
    signaturePublicKey,
    signaturePrivateKey,
    credentialIdentity,
  };
}
