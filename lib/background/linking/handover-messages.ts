/**
 * The messages of the handover, inside the secure channel (secure-channel.ts):
 * authenticated, but still from another device that may be buggy or not the
 * person's, so each is parsed strictly (exact keys, types, bounds) into a
 * typed value or a LinkError `malformed`. JSON text, versioned by `v`.
 *
 *   new → existing   device    { v:1, t:'device', deviceKey, name, address }
 *   existing → new   account   { v:1, t:'account', identity, roster, displayName, settings, conversations, history }
 *   existing → new   history   { v:1, t:'history', records }             (`history` of them in all)
 *   existing → new   end       { v:1, t:'end' }
 *   new → existing   done      { v:1, t:'done' }                        (all kept: the existing device may add it)
 *   either           abort     { v:1, t:'abort', reason }
 */
import { fromB64, toB64 } from '../../bytes.ts';
import { LinkError } from './errors.ts';
import type { AccountHandover, HistoryRecord, LinkDeviceAddress, LinkedConversation, LinkedSettings, NewDevice } from './ports.ts';

export const HANDOVER_VERSION = 1;
export const MAX_CONVERSATIONS = 10_000;
export const MAX_HISTORY_PAGE = 500;
const MAX_NAME = 64;
const MAX_CONVERSATION_NAME = 200;
const MAX_TEXT = 16 * 1024;
const MAX_IDENTITY_BYTES = 64 * 1024;
const MAX_ROSTER_BYTES = 64 * 1024;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export type HandoverMessage =
  | { t: 'device'; device: NewDevice }
  | { t: 'account'; identity: Uint8Array; roster: Uint8Array; account: AccountHandover; history: number }
  | { t: 'history'; records: HistoryRecord[] }
  | { t: 'end' }
  | { t: 'done' }
  | { t: 'abort'; reason: string };

type Json = Record<string, unknown>;

const bad = (what: string): LinkError => new LinkError('malformed', `the other device sent a malformed ${what}`);

function obj(v: unknown, what: string, keys: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(what);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(what);
  return o;
}

function text(o: Json, k: string, what: string, max: number, min = 1): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length < min || v.length > max) throw bad(what);
  return v;
}

function id(o: Json, k: string, what: string): string {
  const v = text(o, k, what, 64);
  if (!ID.test(v)) throw bad(what);
  return v;
}

function b64(o: Json, k: string, what: string, max: number, exact?: number): Uint8Array {
  const v = o[k];
  if (typeof v !== 'string' || v.length > Math.ceil((max * 4) / 3) + 1) throw bad(what);
  const b = fromB64(v);
  if (b === null || b.length === 0 || b.length > max || (exact !== undefined && b.length !== exact)) throw bad(what);
  return b;
}

function bool(o: Json, k: string, what: string): boolean {
  if (typeof o[k] !== 'boolean') throw bad(what);
  return o[k];
}

function int(o: Json, k: string, what: string, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw bad(what);
  return v;
}

function list(o: Json, k: string, what: string, max: number): unknown[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length > max) throw bad(what);
  return v;
}

function address(v: unknown): LinkDeviceAddress {
  const o = obj(v, 'device address', ['accountId', 'welcomeMailboxId']);
  return { accountId: id(o, 'accountId', 'device address'), welcomeMailboxId: id(o, 'welcomeMailboxId', 'device address') };
}

function settings(v: unknown): LinkedSettings {
  const o = obj(v, 'settings', ['notifications', 'notificationContent', 'readReceipts']);
  const nc = o.notificationContent;
  if (nc !== 'full' && nc !== 'name' && nc !== 'none') throw bad('settings');
  return { notifications: bool(o, 'notifications', 'settings'), notificationContent: nc, readReceipts: bool(o, 'readReceipts', 'settings') };
}

function conversation(v: unknown): LinkedConversation {
  const o = obj(v, 'conversation', ['id', 'name']);
  return { id: id(o, 'id', 'conversation'), name: text(o, 'name', 'conversation', MAX_CONVERSATION_NAME, 0) };
}

function record(v: unknown): HistoryRecord {
  const o = obj(v, 'history record', ['conversationId', 'id', 'kind', 'text', 'sender', 'sentAt']);
  if (o.kind !== 'text' && o.kind !== 'system') throw bad('history record');
  const s = obj(o.sender, 'history record', ['displayName', 'self']);
  return {
    conversationId: id(o, 'conversationId', 'history record'),
    id: id(o, 'id', 'history record'),
    kind: o.kind,
    text: text(o, 'text', 'history record', MAX_TEXT, 0),
    sender: { displayName: text(s, 'displayName', 'history record', MAX_NAME, 0), self: bool(s, 'self', 'history record') },
    sentAt: int(o, 'sentAt', 'history record', Number.MAX_SAFE_INTEGER),
  };
}

function unique<T>(items: T[], key: (t: T) => string, what: string): T[] {
  if (new Set(items.map(key)).size !== items.length) throw bad(what);
  return items;
}

export function parseHandover(bytes: Uint8Array): HandoverMessage {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new LinkError('malformed', 'the other device sent something that is not a message', { cause });
  }
  const head = obj(v, 'message', ['v', 't', 'deviceKey', 'name', 'address', 'identity', 'roster', 'displayName', 'settings', 'conversations', 'history', 'records', 'reason']);
  if (head.v !== HANDOVER_VERSION) throw new LinkError('malformed', 'the other device speaks another version of linking; update both');
  switch (head.t) {
    case 'device': {
      const o = obj(v, 'device', ['v', 't', 'deviceKey', 'name', 'address']);
      return { t: 'device', device: { deviceKey: b64(o, 'deviceKey', 'device', 32, 32), name: text(o, 'name', 'device', MAX_NAME), address: address(o.address) } };
    }
    case 'account': {
      const o = obj(v, 'account', ['v', 't', 'identity', 'roster', 'displayName', 'settings', 'conversations', 'history']);
      const conversations = unique(list(o, 'conversations', 'account', MAX_CONVERSATIONS).map(conversation), (c) => c.id, 'conversation list');
      return {
        t: 'account',
        identity: b64(o, 'identity', 'account', MAX_IDENTITY_BYTES),
        roster: b64(o, 'roster', 'account', MAX_ROSTER_BYTES),
        account: { displayName: text(o, 'displayName', 'account', MAX_NAME), settings: settings(o.settings), conversations },
        history: int(o, 'history', 'account', 100_000_000),
      };
    }
    case 'history': {
      const o = obj(v, 'history', ['v', 't', 'records']);
      const records = list(o, 'records', 'history', MAX_HISTORY_PAGE).map(record);
      if (records.length === 0) throw bad('history');
      return { t: 'history', records };
    }
    case 'end':
      obj(v, 'end', ['v', 't']);
      return { t: 'end' };
    case 'done':
      obj(v, 'done', ['v', 't']);
      return { t: 'done' };
    case 'abort': {
      const o = obj(v, 'abort', ['v', 't', 'reason']);
      return { t: 'abort', reason: text(o, 'reason', 'abort', 200, 0) };
    }
    default:
      throw bad('message');
  }
}

export function encodeHandover(m: HandoverMessage): Uint8Array {
  let body: Json;
  switch (m.t) {
    case 'device':
      body = { deviceKey: toB64(m.device.deviceKey), name: m.device.name, address: { accountId: m.device.address.accountId, welcomeMailboxId: m.device.address.welcomeMailboxId } };
      break;
    case 'account':
      body = {
        identity: toB64(m.identity),
        roster: toB64(m.roster),
        displayName: m.account.displayName,
        settings: { ...m.account.settings },
        conversations: m.account.conversations.map((c) => ({ id: c.id, name: c.name })),
        history: m.history,
      };
      break;
    case 'history':
      body = { records: m.records };
      break;
    case 'abort':
      body = { reason: m.reason };
      break;
    default:
      body = {};
  }
  return new TextEncoder().encode(JSON.stringify({ v: HANDOVER_VERSION, t: m.t, ...body }));
}
