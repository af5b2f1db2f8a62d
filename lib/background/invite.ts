/**
 * Invite codes and the signed, encrypted invite blob.
 *
 *   code = microchat:join?r=<relay origin>&i=<inviteId>&k=<key>&v=<verify key>
 *
 * A code is pasted into the side panel, never opened: it is not an http(s)
 * URL, so no page the relay serves ever holds it (a relay-served page could
 * read a link's fragment with one script). `key` (32 bytes) decrypts the blob
 * the relay stores under `inviteId`; the relay holds only the ciphertext and a
 * hash of `writeKey`, which members (not invitees) use to replace the blob
 * with each new epoch's GroupInfo.
 *
 * `v` is the public half of an Ed25519 key pair made for this invite. Members
 * hold its private half (with the key and write key) and sign every blob they
 * publish, so the code commits to its conversation: a blob written by the
 * relay, by someone who holds only the write key, or by a former member (the
 * invite is revoked on removal) fails the joiner's check.
 *
 *   blob = iv (12) || AES-256-GCM(key, iv, sig (64) || content, aad = "microchat/invite/v1" || inviteId)
 *   sig  = Ed25519(signingKey, "microchat/invite/sig/v1" || 0x00 || inviteId (16 bytes) || content)
 *   content = JSON{gi, q, c, n}
 *     gi: the MLSMessage-framed GroupInfo (with ratchet_tree and external_pub)
 *     q:  the conversation's relay queue id
 *     c:  the queue capability of the GroupInfo's epoch (queue-capability.ts),
 *         so the joiner can register and post its external Commit
 *     n:  the conversation's name
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromB64, randomBytes, toB64 } from '../bytes.ts';
import { aesGcm } from '../crypto/noble-aes.ts';
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

export interface InviteLink {
  relayUrl: string;
  inviteId: string;
  key: Uint8Array;
  /** Ed25519 public key every blob of this invite must be signed with. */
  verifyKey: Uint8Array;
}

export interface InviteContent {
  groupInfo: Uint8Array;
  queue: Uint8Array;
  capability: Uint8Array;
  name: string;
}

const SCHEME = 'microchat:join?';

export function formatInviteLink(l: InviteLink): string {
  const p = new URLSearchParams({ r: l.relayUrl, i: l.inviteId, k: toB64(l.key), v: toB64(l.verifyKey) });
  return SCHEME + p.toString();
}

function badLink(): ChannelError {
  return new ChannelError(ErrorCode.InvalidInput, t('bg_err_not_invite'));
}

export const OLD_LINK = t('bg_err_invite_old');
export const TAMPERED = t('bg_err_invite_tampered');

function relayOrigin(text: string): string | null {
  try {
    const u = new URL(text);
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== text) return null;
    return u.origin;
  } catch {
    return null; // not a URL: not a relay origin
  }
}

export function parseInviteLink(text: string): InviteLink {
  const t = text.trim();
  // The old `<relay>/join#i=…&k=…` links carry no verify key: their blob cannot be checked.
  if (/^https?:\/\/[^#]*\/join#/i.test(t)) throw new ChannelError(ErrorCode.InvalidInput, OLD_LINK);
  if (!t.startsWith(SCHEME)) throw badLink();
  const params = new URLSearchParams(t.slice(SCHEME.length));
  if ([...params.keys()].length !== 4) throw badLink();
  const relayUrl = relayOrigin(params.get('r') ?? '');
  const inviteId = params.get('i') ?? '';
  const key = fromB64(params.get('k') ?? '');
  const verifyKey = fromB64(params.get('v') ?? '');
  if (relayUrl === null || !/^[A-Za-z0-9_-]{22}$/.test(inviteId) || fromB64(inviteId)?.length !== 16) throw badLink();
  if (key === null || key.length !== 32 || verifyKey === null || verifyKey.length !== 32) throw badLink();
  return { relayUrl, inviteId, key, verifyKey };
}

/**
 * The code of an invite we hold, to copy it again: everything in it is kept
 * with the conversation (the verify key is the public half of the signing
 * key). Null for a record made before invites were signed: no code of it works.
 */
export function inviteLinkOf(relayUrl: string, r: { inviteId: string; key: string; signingKey?: string }): string | null {
  const key = fromB64(r.key);
  const signingKey = r.signingKey === undefined ? null : fromB64(r.signingKey);
  if (key === null || signingKey === null) return null;
  return formatInviteLink({ relayUrl, inviteId: r.inviteId, key, verifyKey: ed25519.getPublicKey(signingKey) });
}

/** A fresh invite signing key pair: the code carries `verifyKey`, members keep `signingKey`. */
export function newInviteSigningKey(): { signingKey: Uint8Array; verifyKey: Uint8Array } {
  const signingKey = randomBytes(32);
  return { signingKey, verifyKey: ed25519.getPublicKey(signingKey) };
}

const enc = new TextEncoder();
const AAD = enc.encode('microchat/invite/v1');
const SIG_LABEL = enc.encode('microchat/invite/sig/v1\0');
const SIG_BYTES = 64;

function aad(inviteId: string): Uint8Array {
  const id = enc.encode(inviteId);
  const out = new Uint8Array(AAD.length + id.length);
  out.set(AAD);
  out.set(id, AAD.length);
  return out;
}

/** What the signature covers: a domain label, the invite id, the content. */
function signedBytes(inviteId: string, content: Uint8Array): Uint8Array {
  const id = fromB64(inviteId) ?? new Uint8Array(0);
  const out = new Uint8Array(SIG_LABEL.length + id.length + content.length);
  out.set(SIG_LABEL);
  out.set(id, SIG_LABEL.length);
  out.set(content, SIG_LABEL.length + id.length);
  return out;
}

export async function sealInvite(key: Uint8Array, inviteId: string, c: InviteContent, signingKey: Uint8Array): Promise<Uint8Array> {
  const iv = randomBytes(12);
  const content = enc.encode(JSON.stringify({ gi: toB64(c.groupInfo), q: toB64(c.queue), c: toB64(c.capability), n: c.name }));
  const pt = new Uint8Array(SIG_BYTES + content.length);
  pt.set(ed25519.sign(signedBytes(inviteId, content), signingKey));
  pt.set(content, SIG_BYTES);
  const ct = (await aesGcm())(key, iv, aad(inviteId)).encrypt(pt);
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return out;
}

/**
 * Open a blob and check it against the code's verify key. Anything that does
 * not decrypt under the code's key or is not signed by its invite key is
 * refused the same way: the joiner cannot tell a forger from damage, and
 * must not join either.
 */
export async function openInvite(key: Uint8Array, inviteId: string, blob: Uint8Array, verifyKey: Uint8Array): Promise<InviteContent> {
  const bad = (): ChannelError => new ChannelError(ErrorCode.InvalidInput, TAMPERED);
  if (blob.length < 12 + 16 + SIG_BYTES) throw bad();
  const gcm = await aesGcm();
  let o: unknown;
  try {
    const pt = gcm(key, blob.subarray(0, 12), aad(inviteId)).decrypt(blob.subarray(12));
    if (pt.length < SIG_BYTES) throw bad();
    const content = pt.subarray(SIG_BYTES);
    if (!ed25519.verify(pt.subarray(0, SIG_BYTES), signedBytes(inviteId, content), verifyKey)) throw bad();
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
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
