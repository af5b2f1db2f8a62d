/**
 * What MicroChat puts inside an MLS application message: a small JSON
 * object, versioned, parsed strictly (it comes from another member, who may
 * be hostile or running a different version).
 *
 *   text    {v:1, t:'text',   id, text, at}
 *   rename  {v:1, t:'rename', id, name, at}        the conversation's new name
 *   invite  {v:1, t:'invite', id, at, inviteId, key, writeKey, signingKey, expiresAt, oneTime}
 *           shares a live invite so every member republishes the GroupInfo
 *           under it after each epoch (joins work with the inviter offline),
 *           signed with the invite's signing key (see invite.ts)
 *   close   {v:1, t:'close',  id, at}              the conversation was deleted
 *   tokenkey {v:1, t:'tokenkey', id, at, keyId, acceptUntil, reply}
 *           the sealed-sender token key the sender holds this period, so
 *           members notice a relay that shows people different keys
 *           (token-key-watch.ts); `reply` answers an announcement (and is
 *           not answered itself)
 *   profile {v:1, t:'profile', id, name, at}       the sender's display name (member-names.ts);
 *           names never go into leaf credentials, which the relay can read
 *   mailbox {v:1, t:'mailbox', id, at, mailboxId}  the sender's mailbox for this
 *           conversation, so whoever removes them can unregister it at the relay
 *   receipt {v:1, t:'receipt', id, at, delivered, read}  ids of other members' texts
 *           this device now has (delivered) or its person has read (read);
 *           batched, never answered (see receipts.ts)
 *   person  {v:1, t:'person', id, at, personId, identityKey, deviceKey, leafSig, roster}
 *           the sender's person and device, signed (identity/person-proof.ts), said with `profile`;
 *           it counts only for the MLS sender's leaf
 *   sync    {v:1, t:'sync', id, at, action, conversationId, upTo?}  between our own devices only
 *           (device-sync-message.ts); it counts only from a leaf of ours
 *   timer   {v:1, t:'timer', id, at, seconds}  the conversation's disappearing-message timer
 *           (disappearing.ts), set by any member; 0 is off
 *
 * Rename is a signed application message rather than a
 * GroupContextExtensions commit: a name is a label for people, not group
 * policy, so it needs no epoch change and works with pending commits.
 */
import { LIMITS } from '../protocol/channel.ts';
import { MAX_RECEIPT_IDS } from './receipts.ts';
import { parsePersonClaim, type PersonClaim } from './identity/person-proof.ts';
import { parseDeviceSync, type DeviceSyncAction } from './device-sync-message.ts';
import { DISAPPEAR_AFTER } from '../protocol/rich-messages.ts';

export type AppMessage =
  | { v: 1; t: 'text'; id: string; text: string; at: number }
  | { v: 1; t: 'rename'; id: string; name: string; at: number }
  | { v: 1; t: 'invite'; id: string; at: number; inviteId: string; key: string; writeKey: string; signingKey: string; expiresAt: number; oneTime: boolean }
  | { v: 1; t: 'close'; id: string; at: number }
  | { v: 1; t: 'tokenkey'; id: string; at: number; keyId: string; acceptUntil: number; reply: boolean }
  | { v: 1; t: 'profile'; id: string; name: string; at: number }
  | { v: 1; t: 'mailbox'; id: string; at: number; mailboxId: string }
  | { v: 1; t: 'receipt'; id: string; at: number; delivered: string[]; read: string[] }
  | ({ v: 1; t: 'person'; id: string; at: number } & PersonClaim)
  | ({ v: 1; t: 'sync'; id: string; at: number } & DeviceSyncAction)
  | { v: 1; t: 'timer'; id: string; at: number; seconds: (typeof DISAPPEAR_AFTER)[number] };

const PERSON_FIELDS = ['v', 't', 'id', 'at', 'personId', 'identityKey', 'deviceKey', 'leafSig', 'roster'];

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEY = /^[A-Za-z0-9_-]{43}$/;

export function encodeAppMessage(m: AppMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

/** Strict parse; null for anything that is not exactly one of our messages. */
export function parseAppMessage(bytes: Uint8Array): AppMessage | null {
  if (bytes.length > 64 * 1024) return null;
  let o: unknown;
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null; // not UTF-8 JSON: not one of ours
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  if (r.v !== 1 || typeof r.id !== 'string' || !ID.test(r.id)) return null;
  if (typeof r.at !== 'number' || !Number.isSafeInteger(r.at) || r.at < 0) return null;
  const base = { v: 1 as const, id: r.id, at: r.at };
  const str = (k: string, max: number): string | null => (typeof r[k] === 'string' && (r[k] as string).length <= max ? (r[k] as string) : null);
  switch (r.t) {
    case 'text': {
      const text = str('text', LIMITS.messageText);
      return text === null ? null : { ...base, t: 'text', text };
    }
    case 'rename': {
      const name = str('name', LIMITS.conversationName);
      return name === null || name.trim() === '' ? null : { ...base, t: 'rename', name };
    }
    case 'invite': {
      const inviteId = str('inviteId', 22);
      const key = str('key', 43);
      const writeKey = str('writeKey', 43);
      const signingKey = str('signingKey', 43);
      if (inviteId === null || !/^[A-Za-z0-9_-]{22}$/.test(inviteId) || key === null || !KEY.test(key) || writeKey === null || !KEY.test(writeKey)) return null;
      if (signingKey === null || !KEY.test(signingKey)) return null;
      if (typeof r.expiresAt !== 'number' || !Number.isSafeInteger(r.expiresAt) || typeof r.oneTime !== 'boolean') return null;
      return { ...base, t: 'invite', inviteId, key, writeKey, signingKey, expiresAt: r.expiresAt, oneTime: r.oneTime };
    }
    case 'close':
      return { ...base, t: 'close' };
    case 'tokenkey': {
      const keyId = str('keyId', 32);
      if (keyId === null || !/^[A-Za-z0-9_-]{1,32}$/.test(keyId) || typeof r.reply !== 'boolean') return null;
      if (typeof r.acceptUntil !== 'number' || !Number.isSafeInteger(r.acceptUntil) || r.acceptUntil < 0) return null;
      return { ...base, t: 'tokenkey', keyId, acceptUntil: r.acceptUntil, reply: r.reply };
    }
    case 'profile': {
      const name = str('name', LIMITS.displayName);
      return name === null || name.trim() === '' ? null : { ...base, t: 'profile', name: name.trim() };
    }
    case 'mailbox': {
      const mailboxId = str('mailboxId', 22);
      return mailboxId === null || !/^[A-Za-z0-9_-]{22}$/.test(mailboxId) ? null : { ...base, t: 'mailbox', mailboxId };
    }
    case 'receipt': {
      const delivered = idList(r.delivered);
      const read = idList(r.read);
      if (delivered === null || read === null) return null;
      const total = delivered.length + read.length;
      // Never empty, bounded, and no id in both lists: anything else is not ours.
      if (total === 0 || total > MAX_RECEIPT_IDS || new Set([...delivered, ...read]).size !== total) return null;
      return { ...base, t: 'receipt', delivered, read };
    }
    case 'person': {
      // Strict: no field beyond the claim's (what a signature does not cover is not carried either).
      if (Object.keys(r).some((k) => !PERSON_FIELDS.includes(k))) return null;
      const claim = parsePersonClaim(r);
      return claim === null ? null : { ...base, t: 'person', ...claim };
    }
    case 'sync': {
      const sync = parseDeviceSync(r);
      return sync === null ? null : { ...base, t: 'sync', ...sync };
    }
    case 'timer': {
      const seconds = DISAPPEAR_AFTER.find((s) => s === r.seconds);
      return seconds === undefined || Object.keys(r).length !== 5 ? null : { ...base, t: 'timer', seconds };
    }
    default:
      return null;
  }
}

/** An array of distinct message ids, or null. */
function idList(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length > MAX_RECEIPT_IDS) return null;
  for (const x of v) if (typeof x !== 'string' || !ID.test(x)) return null;
  return new Set(v).size === v.length ? (v as string[]) : null;
}
