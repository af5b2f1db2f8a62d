/**
 * Invite links and the encrypted invite blob.
 *
 *   link = <relayUrl>/join#i=<inviteId>&k=<key>
 *
 * The fragment never reaches a server. `key` (32 bytes) decrypts the blob the
 * relay stores under `inviteId`; the relay holds only the ciphertext and a
 * hash of `writeKey`, which members (not invitees) use to replace the blob
 * with each new epoch's GroupInfo.
 *
 *   blob = iv (12) || AES-256-GCM(key, iv, JSON{gi, q, c, n}, aad = "microchat/invite/v1" || inviteId)
 *     gi: the MLSMessage-framed GroupInfo (with ratchet_tree and external_pub)
 *     q:  the conversation's relay queue id
 *     c:  the queue capability of the GroupInfo's epoch (queue-capability.ts),
 *         so the joiner can register and post its external Commit
 *     n:  the conversation's name
 */
import { gcm } from '@noble/ciphers/aes.js';
import { fromB64, randomBytes, toB64 } from './b64.ts';
import { ChannelError, ErrorCode } from './protocol.ts';

export interface InviteLink {
  relayUrl: string;
  inviteId: string;
  key: Uint8Array;
}

export interface InviteContent {
  groupInfo: Uint8Array;
  queue: Uint8Array;
  capability: Uint8Array;
  name: string;
}

export function formatInviteLink(l: InviteLink): string {
  return `${l.relayUrl}/join#i=${l.inviteId}&k=${toB64(l.key)}`;
}

function badLink(): ChannelError {
  return new ChannelError(ErrorCode.InvalidInput, 'That is not a MicroChat invite link.');
}

export function parseInviteLink(text: string): InviteLink {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw badLink();
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/join' || url.search !== '') throw badLink();
  const params = new URLSearchParams(url.hash.replace(/^#/, ''));
  const inviteId = params.get('i') ?? '';
  const key = fromB64(params.get('k') ?? '');
  if (!/^[A-Za-z0-9_-]{22}$/.test(inviteId) || fromB64(inviteId)?.length !== 16 || key === null || key.length !== 32) throw badLink();
  return { relayUrl: url.origin, inviteId, key };
}

const AAD = new TextEncoder().encode('microchat/invite/v1');

function aad(inviteId: string): Uint8Array {
  const id = new TextEncoder().encode(inviteId);
  const out = new Uint8Array(AAD.length + id.length);
  out.set(AAD);
  out.set(id, AAD.length);
  return out;
}

export function sealInvite(key: Uint8Array, inviteId: string, c: InviteContent): Uint8Array {
  const iv = randomBytes(12);
  const pt = new TextEncoder().encode(JSON.stringify({ gi: toB64(c.groupInfo), q: toB64(c.queue), c: toB64(c.capability), n: c.name }));
  const ct = gcm(key, iv, aad(inviteId)).encrypt(pt);
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return out;
}

export function openInvite(key: Uint8Array, inviteId: string, blob: Uint8Array): InviteContent {
  const bad = (): ChannelError => new ChannelError(ErrorCode.InvalidInput, 'This invite could not be opened; ask for a new link.');
  if (blob.length < 12 + 16) throw bad();
  let o: unknown;
  try {
    const pt = gcm(key, blob.subarray(0, 12), aad(inviteId)).decrypt(blob.subarray(12));
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(pt));
  } catch {
    throw bad();
  }
  if (typeof o !== 'object' || o === null) throw bad();
  const r = o as Record<string, unknown>;
  const gi = typeof r.gi === 'string' ? fromB64(r.gi) : null;
  const q = typeof r.q === 'string' ? fromB64(r.q) : null;
  const cap = typeof r.c === 'string' ? fromB64(r.c) : null;
  if (gi === null || q === null || q.length !== 32 || typeof r.n !== 'string' || r.n.length > 80) throw bad();
  if (cap === null || cap.length !== 32) throw bad();
  return { groupInfo: gi, queue: q, capability: cap, name: r.n };
}
