/**
 * Accounts with WebAuthn passkeys (@simplewebauthn/server) and sessions.
 *
 * An account is a random pseudonym holding passkey credentials; the relay
 * keeps no name, no e-mail, nothing biometric. A successful ceremony yields a
 * session: a random bearer token the client keeps, stored here only as its
 * SHA-256, with an expiry, and deletable by logout.
 *
 * Expected origins: configured origins plus (by default) any
 * chrome-extension:// or moz-extension:// origin, since extension ids differ
 * per install (Firefox) or per build. RP ID: the configured one (the relay's
 * host by default) plus optional extras.
 */

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RelayConfig } from './config.ts';
import { ErrorCode, RelayError } from './errors.ts';
import { fromB64, randomBytes, randomId, toB64 } from '../lib/bytes.ts';
import { readId, readObject, readOptionalString } from './encoding.ts';
import { EXTENSION_ORIGIN, isAllowedOrigin } from './http.ts';
import type { RelayStore } from './store.ts';
import type { WireSession } from '../lib/protocol/relay.ts';

/** A new session as answered to the client: the contract's shape. */
export type Session = WireSession;

/** What every passkey is called at the relay (WebAuthn user.name and user.displayName): never a person's name. */
export const ACCOUNT_HANDLE = 'MicroChat account';

const ceremonyFailed = (cause?: unknown): RelayError =>
  new RelayError(ErrorCode.ceremonyFailed, 'passkey ceremony failed', { cause });

export function hashSessionToken(token: string): string {
  return toB64(sha256(new TextEncoder().encode(token)));
}

/** Reads the origin the browser put in clientDataJSON, to check it against our list before verifying. */
function clientOrigin(response: Record<string, unknown>): string {
  const inner = response.response;
  if (typeof inner !== 'object' || inner === null) throw ceremonyFailed();
  const cdj = (inner as Record<string, unknown>).clientDataJSON;
  if (typeof cdj !== 'string' || cdj.length > 4096) throw ceremonyFailed();
  const bytes = fromB64(cdj.replace(/=+$/, ''));
  if (bytes === null) throw ceremonyFailed();
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const origin = (parsed as Record<string, unknown>).origin;
    if (typeof origin === 'string') return origin;
  } catch (cause) {
    throw ceremonyFailed(cause);
  }
  throw ceremonyFailed();
}

export class Accounts {
  constructor(
    private readonly store: RelayStore,
    private readonly config: RelayConfig,
    private readonly now: () => number,
  ) {}

  /**
   * RP IDs a ceremony from `origin` may use: the configured ones, plus an
   * allowed extension's own scope. A browser extension cannot claim the relay's
   * domain, so its passkeys are scoped to the extension itself (Chromium hashes
   * the RP ID as the extension origin, so both spellings are accepted). Such a
   * credential is usable only from that same extension origin, which the
   * ceremony also checks, so allowing it grants no other origin anything.
   */
  private rpIds(origin: string | null): string[] {
    const ids = [this.config.rpId, ...this.config.extraRpIds];
    if (origin !== null && EXTENSION_ORIGIN.test(origin) && isAllowedOrigin(this.config, origin)) {
      ids.push(new URL(origin).host, origin);
    }
    return ids;
  }

  private pickRpId(body: Record<string, unknown>, origin: string | null): string {
    const wanted = readOptionalString(body, 'rpId', 253);
    return wanted !== undefined && this.rpIds(origin).includes(wanted) ? wanted : this.config.rpId;
  }

  /** `origin` is the request's Origin header (null when absent). */
  async startRegistration(body: Record<string, unknown>, origin: string | null): Promise<{ ceremonyId: string; options: object }> {
    const accountId = randomId();
    // The passkey's user name is a fixed handle, whatever a client sends: the relay knows accounts only by random ids.
    const options = await generateRegistrationOptions({
      rpName: this.config.rpName,
      rpID: this.pickRpId(body, origin),
      userName: ACCOUNT_HANDLE,
      userDisplayName: ACCOUNT_HANDLE,
      userID: new Uint8Array(fromB64(accountId) ?? new Uint8Array(16)),
      attestationType: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
      supportedAlgorithmIDs: [-7, -8, -257],
    });
    const ceremonyId = randomId();
    await this.store.putCeremony(ceremonyId, {
      kind: 'register',
      challenge: options.challenge,
      accountId,
      expiresAt: this.now() + this.config.ceremonyTtlSeconds,
    }, this.config.maxPendingCeremonies);
    return { ceremonyId, options };
  }

  async finishRegistration(body: Record<string, unknown>): Promise<Session> {
    const ceremonyId = readId(body, 'ceremonyId');
    const response = readObject(body, 'response');
    const ceremony = await this.store.takeCeremony(ceremonyId, this.now());
    if (ceremony === null || ceremony.kind !== 'register' || ceremony.accountId === null) throw ceremonyFailed();
    const origin = clientOrigin(response);
    if (!isAllowedOrigin(this.config, origin)) throw ceremonyFailed();
    let result;
    try {
      result = await verifyRegistrationResponse({
        response: response as unknown as Parameters<typeof verifyRegistrationResponse>[0]['response'],
        expectedChallenge: ceremony.challenge,
        expectedOrigin: origin,
        expectedRPID: this.rpIds(origin),
        requireUserVerification: false,
      });
    } catch (cause) {
      throw ceremonyFailed(cause);
    }
    if (!result.verified) throw ceremonyFailed();
    const cred = result.registrationInfo.credential;
    if (cred.id.length > 1024) throw ceremonyFailed();
    if ((await this.store.getCredential(cred.id)) !== null) throw ceremonyFailed();
    await this.store.createAccount(ceremony.accountId, {
      credentialId: cred.id,
      accountId: ceremony.accountId,
      publicKey: new Uint8Array(cred.publicKey),
      counter: cred.counter,
      transports: (cred.transports ?? []).map(String),
    });
    return this.newSession(ceremony.accountId);
  }

  async startLogin(body: Record<string, unknown>, origin: string | null): Promise<{ ceremonyId: string; options: object }> {
    const options = await generateAuthenticationOptions({
      rpID: this.pickRpId(body, origin),
      allowCredentials: [],
      userVerification: 'preferred',
    });
    const ceremonyId = randomId();
    await this.store.putCeremony(ceremonyId, {
      kind: 'login',
      challenge: options.challenge,
      accountId: null,
      expiresAt: this.now() + this.config.ceremonyTtlSeconds,
    }, this.config.maxPendingCeremonies);
    return { ceremonyId, options };
  }

  async finishLogin(body: Record<string, unknown>): Promise<Session> {
    const ceremonyId = readId(body, 'ceremonyId');
    const response = readObject(body, 'response');
    const ceremony = await this.store.takeCeremony(ceremonyId, this.now());
    if (ceremony === null || ceremony.kind !== 'login') throw ceremonyFailed();
    const credentialId = response.id;
    if (typeof credentialId !== 'string' || credentialId.length === 0 || credentialId.length > 1024) {
      throw ceremonyFailed();
    }
    const stored = await this.store.getCredential(credentialId);
    if (stored === null) throw ceremonyFailed();
    const origin = clientOrigin(response);
    if (!isAllowedOrigin(this.config, origin)) throw ceremonyFailed();
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response: response as unknown as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
        expectedChallenge: ceremony.challenge,
        expectedOrigin: origin,
        expectedRPID: this.rpIds(origin),
        credential: {
          id: stored.credentialId,
          publicKey: new Uint8Array(stored.publicKey),
          counter: stored.counter,
          transports: stored.transports as never,
        },
        requireUserVerification: false,
      });
    } catch (cause) {
      throw ceremonyFailed(cause);
    }
    if (!result.verified) throw ceremonyFailed();
    await this.store.updateCredentialCounter(stored.credentialId, result.authenticationInfo.newCounter);
    return this.newSession(stored.accountId);
  }

  private async newSession(accountId: string): Promise<Session> {
    const token = toB64(randomBytes(32));
    const expiresAt = this.now() + this.config.sessionTtlSeconds;
    await this.store.putSession(hashSessionToken(token), accountId, expiresAt);
    return { accountId, token, expiresAt };
  }

  /** The account behind `Authorization: Bearer <token>`, or a typed unauthenticated error. */
  async authenticate(req: Request): Promise<{ accountId: string; expiresAt: number; tokenHash: string }> {
    const header = req.headers.get('authorization');
    const m = header === null ? null : /^Bearer ([A-Za-z0-9_-]{43})$/.exec(header);
    if (m === null || m[1] === undefined) throw new RelayError(ErrorCode.unauthenticated, 'session required');
    return this.authenticateToken(m[1]);
  }

  /** The account behind a session token (the issuance socket carries it in its one frame). */
  async authenticateToken(token: unknown): Promise<{ accountId: string; expiresAt: number; tokenHash: string }> {
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw new RelayError(ErrorCode.unauthenticated, 'session required');
    const tokenHash = hashSessionToken(token);
    const session = await this.store.getSession(tokenHash, this.now());
    if (session === null) throw new RelayError(ErrorCode.unauthenticated, 'session required');
    // A deleted account's sessions go with it; this also covers one a store could not find by account.
    if (!(await this.store.accountExists(session.accountId))) throw new RelayError(ErrorCode.unauthenticated, 'session required');
    return { ...session, tokenHash };
  }

  /**
   * Deletes the account of the session that asks, never another: the target
   * is the session's own account, so no request can name someone else's.
   * Its credentials, sessions and key packages go with it.
   */
  async deleteAccount(req: Request): Promise<void> {
    const { accountId } = await this.authenticate(req);
    await this.store.deleteAccount(accountId);
  }

  async logout(req: Request): Promise<void> {
    const { tokenHash } = await this.authenticate(req);
    await this.store.deleteSession(tokenHash);
  }
}
