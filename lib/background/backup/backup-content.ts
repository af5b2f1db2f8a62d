/**
 * What a backup holds (issue #19), as plain objects with strict readers: the
 * bytes come back from the relay or a file, so they are read as untrusted
 * even after they authenticate under our key (an old version may be replayed).
 *
 *   manifest   v, written (counter), identity (opaque, from the identity
 *              part), account (display name, settings), includeHistory,
 *              conversations: [{id, name, rejoin (opaque, from RejoinSource),
 *                               segments: [{item, hash, count}]}]
 *   segment    v, conversationId, index, records (HistoryRecord, oldest first)
 *
 * History is cut into segments of SEGMENT_RECORDS records per conversation:
 * a full segment never changes again, so a new message re-uploads only the
 * conversation's last segment and the manifest. The manifest names each
 * segment by its item and the SHA-256 of its plaintext, so a segment the
 * relay swapped for an older one is refused (BACKUP-SEG-1).
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, fromB64, toB64 } from '../../bytes.ts';
import type { NotificationContent } from '../../protocol/channel.ts';
import type { HistoryRecord } from '../linking/ports.ts';

export const BACKUP_VERSION = 1;
/** Records per history segment (about 100 KiB of text at most). */
export const SEGMENT_RECORDS = 200;
const MAX_CONVERSATIONS = 1000;
const MAX_SEGMENTS = 1000;
const MAX_TEXT = 64 * 1024;
const MAX_NAME = 200;
const MAX_OPAQUE = 64 * 1024;

/** The settings that follow the person (as at linking), plus whether history is in the backup. */
export interface BackupSettings {
  notifications: boolean;
  notificationContent: NotificationContent;
  readReceipts: boolean;
  /** History goes into the backup only if the person opted in (off by default). */
  backupHistory: boolean;
}

export interface SegmentRef {
  /** The segment's item name at the relay. */
  item: string;
  /** base64url SHA-256 of the segment's plaintext. */
  hash: string;
  count: number;
}

export interface BackupConversation {
  id: string;
  name: string;
  /** What rejoining needs (opaque to the backup: the healing part encodes it). */
  rejoin: Uint8Array;
  segments: SegmentRef[];
  /** The display names members announced, by member id (absent when none were known). */
  names?: Record<string, string>;
}

export interface BackupManifest {
  v: typeof BACKUP_VERSION;
  /** Increases with every manifest written (a restore keeps the highest it saw). */
  written: number;
  /** The identity material a new device needs (opaque: the identity part encodes and adopts it). */
  identity: Uint8Array;
  displayName: string;
  settings: BackupSettings;
  conversations: BackupConversation[];
}

export interface HistorySegment {
  v: typeof BACKUP_VERSION;
  conversationId: string;
  index: number;
  records: HistoryRecord[];
}

/** Content that does not read as a backup of ours: a broken or tampered item. */
export class BackupContentError extends Error {
  override readonly name = 'BackupContentError';
}

type Json = Record<string, unknown>;
const enc = new TextEncoder();

function obj(v: unknown, what: string, keys: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupContentError(`${what}: not an object`);
  const o = v as Json;
  if (Object.keys(o).length !== keys.length || !keys.every((k) => Object.hasOwn(o, k))) throw new BackupContentError(`${what}: expected exactly ${keys.join(', ')}`);
  return o;
}
function str(o: Json, k: string, what: string, max: number, min = 0): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length < min || v.length > max) throw new BackupContentError(`${what}.${k}: not a string`);
  return v;
}
function bool(o: Json, k: string, what: string): boolean {
  if (typeof o[k] !== 'boolean') throw new BackupContentError(`${what}.${k}: not a boolean`);
  return o[k];
}
function int(o: Json, k: string, what: string, max: number, min = 0): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BackupContentError(`${what}.${k}: out of range`);
  return v;
}
function bytes(o: Json, k: string, what: string, max: number): Uint8Array {
  const v = typeof o[k] === 'string' && (o[k] as string).length <= Math.ceil((max * 4) / 3) + 1 ? fromB64(o[k] as string) : null;
  if (v === null || v.length > max) throw new BackupContentError(`${what}.${k}: not bytes`);
  return v;
}
function list(o: Json, k: string, what: string, max: number): unknown[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length > max) throw new BackupContentError(`${what}.${k}: not a list`);
  return v;
}
function unique<T>(items: T[], key: (t: T) => string, what: string): T[] {
  if (new Set(items.map(key)).size !== items.length) throw new BackupContentError(`${what}: duplicates`);
  return items;
}
function json(data: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw new BackupContentError(`${what}: not JSON`, { cause: err });
  }
}

function readSettings(v: unknown): BackupSettings {
  const o = obj(v, 'settings', ['notifications', 'notificationContent', 'readReceipts', 'backupHistory']);
  const content = o.notificationContent;
  if (content !== 'full' && content !== 'name' && content !== 'none') throw new BackupContentError('settings.notificationContent: unknown');
  return { notifications: bool(o, 'notifications', 'settings'), notificationContent: content, readReceipts: bool(o, 'readReceipts', 'settings'), backupHistory: bool(o, 'backupHistory', 'settings') };
}

function readSegmentRef(v: unknown): SegmentRef {
  const o = obj(v, 'segment', ['item', 'hash', 'count']);
  const hash = str(o, 'hash', 'segment', 43, 43);
  if (fromB64(hash)?.length !== 32) throw new BackupContentError('segment.hash: not a hash');
  return { item: str(o, 'item', 'segment', 22, 22), hash, count: int(o, 'count', 'segment', SEGMENT_RECORDS, 1) };
}

const MAX_NAMES = 1000;

function readNames(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackupContentError('conversation.names: not an object');
  const entries = Object.entries(v as Json);
  if (entries.length > MAX_NAMES) throw new BackupContentError('conversation.names: too many');
  const out: Record<string, string> = {};
  for (const [id, name] of entries) {
    if (id.length === 0 || id.length > 128 || typeof name !== 'string' || name.length > MAX_NAME) throw new BackupContentError('conversation.names: not a name');
    out[id] = name;
  }
  return out;
}

function readConversation(v: unknown): BackupConversation {
  const withNames = typeof v === 'object' && v !== null && Object.hasOwn(v, 'names');
  const o = obj(v, 'conversation', withNames ? ['id', 'name', 'rejoin', 'segments', 'names'] : ['id', 'name', 'rejoin', 'segments']);
  return {
    id: str(o, 'id', 'conversation', 64, 1),
    name: str(o, 'name', 'conversation', MAX_NAME),
    rejoin: bytes(o, 'rejoin', 'conversation', MAX_OPAQUE),
    segments: unique(list(o, 'segments', 'conversation', MAX_SEGMENTS).map(readSegmentRef), (s) => s.item, 'segments'),
    ...(withNames ? { names: readNames(o.names) } : {}),
  };
}

export function encodeManifest(m: BackupManifest): Uint8Array {
  return enc.encode(
    JSON.stringify({
      v: m.v,
      written: m.written,
      identity: toB64(m.identity),
      displayName: m.displayName,
      settings: m.settings,
      conversations: m.conversations.map((c) => ({ id: c.id, name: c.name, rejoin: toB64(c.rejoin), segments: c.segments, ...(c.names === undefined ? {} : { names: c.names }) })),
    }),
  );
}

export function decodeManifest(data: Uint8Array): BackupManifest {
  const o = obj(json(data, 'manifest'), 'manifest', ['v', 'written', 'identity', 'displayName', 'settings', 'conversations']);
  if (o.v !== BACKUP_VERSION) throw new BackupContentError('manifest.v: unknown version');
  return {
    v: BACKUP_VERSION,
    written: int(o, 'written', 'manifest', Number.MAX_SAFE_INTEGER, 1),
    identity: bytes(o, 'identity', 'manifest', MAX_OPAQUE),
    displayName: str(o, 'displayName', 'manifest', MAX_NAME),
    settings: readSettings(o.settings),
    conversations: unique(list(o, 'conversations', 'manifest', MAX_CONVERSATIONS).map(readConversation), (c) => c.id, 'conversations'),
  };
}

function readRecord(v: unknown, conversationId: string): HistoryRecord {
  const o = obj(v, 'record', ['conversationId', 'id', 'kind', 'text', 'sender', 'sentAt']);
  if (o.conversationId !== conversationId) throw new BackupContentError('record: another conversation');
  if (o.kind !== 'text' && o.kind !== 'system') throw new BackupContentError('record.kind: unknown');
  const sender = obj(o.sender, 'sender', ['displayName', 'self']);
  return {
    conversationId,
    id: str(o, 'id', 'record', 64, 1),
    kind: o.kind,
    text: str(o, 'text', 'record', MAX_TEXT),
    sender: { displayName: str(sender, 'displayName', 'sender', MAX_NAME), self: bool(sender, 'self', 'sender') },
    sentAt: int(o, 'sentAt', 'record', Number.MAX_SAFE_INTEGER),
  };
}

export function encodeSegment(s: HistorySegment): Uint8Array {
  return enc.encode(JSON.stringify(s));
}

/** Reads a segment the manifest names: its plaintext must have the manifest's hash and count (BACKUP-SEG-1). */
export function decodeSegment(data: Uint8Array, ref: SegmentRef, conversationId: string, index: number): HistorySegment {
  if (!bytesEqual(sha256(data), fromB64(ref.hash) ?? new Uint8Array())) throw new BackupContentError('BACKUP-SEG-1: the segment is not the one the manifest names');
  const o = obj(json(data, 'segment'), 'segment', ['v', 'conversationId', 'index', 'records']);
  if (o.v !== BACKUP_VERSION || o.conversationId !== conversationId || o.index !== index) throw new BackupContentError('BACKUP-SEG-1: another segment');
  const records = unique(list(o, 'records', 'segment', SEGMENT_RECORDS).map((r) => readRecord(r, conversationId)), (r) => r.id, 'records');
  if (records.length !== ref.count) throw new BackupContentError('BACKUP-SEG-1: record count differs');
  return { v: BACKUP_VERSION, conversationId, index, records };
}

export function segmentHash(plaintext: Uint8Array): string {
  return toB64(sha256(plaintext));
}

/** A conversation's history cut into segments (the last one possibly short). */
export function cutSegments(conversationId: string, records: readonly HistoryRecord[]): HistorySegment[] {
  const out: HistorySegment[] = [];
  for (let i = 0; i < records.length; i += SEGMENT_RECORDS) {
    out.push({ v: BACKUP_VERSION, conversationId, index: out.length, records: records.slice(i, i + SEGMENT_RECORDS) });
  }
  return out;
}
