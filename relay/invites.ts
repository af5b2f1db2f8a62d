/**
 * Invites: an encrypted GroupInfo published under an invite id, so a person
 * holding the invite code (relay URL, invite id, key and verify key; pasted, never opened)
 * can join by external commit while no member is online.
 *
 * The relay sees only ciphertext. It keeps the invite id and the write key as
 * hashes, so its database alone can neither fetch nor overwrite an invite.
 * Members (who know the write key) replace the ciphertext after each epoch and
 * delete the invite when it is revoked; a one-time invite is deleted by its
 * first read; every invite expires. A deleted invite leaves a tombstone (its
 * id hash and expiry) until it would have expired, so nobody holding the old
 * write key (a removed member) can create it again.
 *
 * Creating an invite costs a sealed-sender token (anonymous, like a message)
 * and counts against a global daily cap on count and bytes; replacing one
 * needs the write key and cannot grow the number stored.
 *
 *   POST   /v1/invites             {inviteId, writeKey, ciphertext, expiresAt, oneTime, token} → {ok:true} | 409 conflict | 429
 *   PUT    /v1/invites/<inviteId>  {writeKey, ciphertext}                               → {ok:true} | 404
 *   GET    /v1/invites/<inviteId>                                                       → {ciphertext} | 404
 *   DELETE /v1/invites/<inviteId>  {writeKey}                                           → {ok:true} | 404
 *
 * Unknown, expired and "wrong write key" all answer the same 404.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { RelayConfig } from './config.ts';
import { fromB64, toB64 } from '../lib/bytes.ts';
import { readBytes } from './encoding.ts';
import { ErrorCode, RelayError, badRequest, notFound } from './errors.ts';
import type { RelayStore } from './store.ts';
import { readToken, type TokenAuthority } from './tokens.ts';

const enc = new TextEncoder();
const INVITE_LABEL = enc.encode('microchat invite v1');
const WRITE_KEY_LABEL = enc.encode('microchat invite write key v1');

function labelledHash(label: Uint8Array, value: Uint8Array): string {
  const buf = new Uint8Array(label.length + value.length);
  buf.set(label);
  buf.set(value, label.length);
  return toB64(sha256(buf));
}

/** An invite id from a path segment: base64url of exactly 16 bytes. */
export function parseInviteId(segment: string): Uint8Array {
  const bytes = segment.length === 22 ? fromB64(segment) : null;
  if (bytes === null || bytes.length !== 16) throw badRequest('inviteId: expected an id');
  return bytes;
}

export class Invites {
  constructor(
    private readonly store: RelayStore,
    private readonly config: RelayConfig,
    private readonly tokens: TokenAuthority,
    private readonly now: () => number,
  ) {}

  private ciphertext(b: Record<string, unknown>): Uint8Array {
    return readBytes(b, 'ciphertext', { min: 1, max: this.config.inviteMaxBytes });
  }

  private writeKeyHash(b: Record<string, unknown>): string {
    return labelledHash(WRITE_KEY_LABEL, readBytes(b, 'writeKey', { min: 32, max: 32 }));
  }

  async create(b: Record<string, unknown>): Promise<void> {
    const inviteId = readBytes(b, 'inviteId', { min: 16, max: 16 });
    const now = this.now();
    const expiresAt = b.expiresAt;
    if (typeof expiresAt !== 'number' || !Number.isInteger(expiresAt) || expiresAt <= now || expiresAt > now + this.config.inviteMaxTtlSeconds) {
      throw badRequest(`expiresAt: expected unix seconds within ${this.config.inviteMaxTtlSeconds} s from now`);
    }
    if (typeof b.oneTime !== 'boolean') throw badRequest('oneTime: expected a boolean');
    const writeKeyHash = this.writeKeyHash(b);
    const ciphertext = this.ciphertext(b);
    const spend = await this.tokens.verify(readToken(b));
    // Spend first: a replayed token must not eat into the global caps.
    if (!(await this.store.spend(spend))) throw new RelayError(ErrorCode.tokenSpent, 'token already spent');
    const day = Math.floor(now / 86_400);
    const dayEnd = (day + 1) * 86_400 + 60;
    if (
      !(await this.store.consumeQuota(`invite-bytes:${day}`, ciphertext.length, this.config.inviteUploadBytesPerDay, dayEnd)) ||
      !(await this.store.consumeQuota(`invites:${day}`, 1, this.config.inviteUploadsPerDay, dayEnd))
    ) {
      throw new RelayError(ErrorCode.quotaExceeded, 'invite limit reached for today; try again tomorrow');
    }
    const stored = await this.store.putInvite(labelledHash(INVITE_LABEL, inviteId), { writeKeyHash, ciphertext, expiresAt, oneTime: b.oneTime });
    if (!stored) throw new RelayError(ErrorCode.conflict, 'invite id already in use');
  }

  async update(inviteId: Uint8Array, b: Record<string, unknown>): Promise<void> {
    const ok = await this.store.updateInvite(labelledHash(INVITE_LABEL, inviteId), this.writeKeyHash(b), this.ciphertext(b), this.now());
    if (!ok) throw notFound();
  }

  async read(inviteId: Uint8Array): Promise<Uint8Array> {
    const ct = await this.store.readInvite(labelledHash(INVITE_LABEL, inviteId), this.now());
    if (ct === null) throw notFound();
    return ct;
  }

  async remove(inviteId: Uint8Array, b: Record<string, unknown>): Promise<void> {
    if (!(await this.store.deleteInvite(labelledHash(INVITE_LABEL, inviteId), this.writeKeyHash(b)))) throw notFound();
  }
}
