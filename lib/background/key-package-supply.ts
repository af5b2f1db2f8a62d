/**
 * Our supply of KeyPackages in the relay's directory (RFC 9420 §10, §16.8;
 * RFC 9750 §4): a batch of one-time packages, each used by one Welcome, and
 * one last-resort package (draft-ietf-mls-extensions, marked inside the
 * signed package) that the relay hands out only when no one-time package is
 * left, so that being added never fails just because many claimed at once.
 *
 * Each package has a fresh pseudonymous credential (member-names.ts) and a
 * fresh signature key, as an external join has: the package becomes our
 * leaf in one conversation, and nothing in it links two conversations.
 *
 * Topped up when the connection comes up and after a Welcome used a package:
 * when fewer than LOW one-time packages remain at the relay, the supply is
 * filled back to BATCH; the last-resort one is replaced when the relay has
 * none or ours nears the end of its lifetime. Private parts are stored
 * before the public ones are uploaded, so a Welcome can never arrive for a
 * package we cannot open.
 */
import type { CipherSuite } from '../crypto/provider.ts';
import { encode } from '../mls/codec/codec.ts';
import { APP_DATA_DICTIONARY_EXTENSION_TYPE, generateIdentity, generateKeyPackage, lastResortExtension } from '../mls/group.ts';
import { keyPackageCodec } from '../mls/join/key-package.ts';
import type { Capabilities } from '../mls/tree/leaf-node.ts';
import { toB64 } from '../bytes.ts';
import { roleCapabilities } from './conversation-roles.ts';
import type { KeyPackageStore, StoredKeyPackage } from './key-package-store.ts';
import { newPseudonym } from './member-names.ts';
import type { RelayApi } from './relay-api.ts';

/** Fill the relay's one-time packages back up to this many... */
export const BATCH = 20;
/** ...when fewer than this many remain. */
export const LOW = 5;
const DAY_S = 86_400;
/** A package's leaf lifetime (RFC 9420 §7.2 not_after); the adder refuses an expired one (V-LN-5). */
export const LIFETIME_S = 90 * DAY_S;
/** A last-resort package this close to its not_after is replaced (Welcomes made with it may take days to arrive). */
const LAST_RESORT_RENEW_S = 30 * DAY_S;
/** Private parts are kept this long past not_after: a Welcome waits at the relay up to its message TTL (30 days). */
const KEEP_AFTER_EXPIRY_S = 31 * DAY_S;

export interface SupplyDeps {
  suite: CipherSuite;
  api: () => RelayApi;
  /** The relay session token; undefined when it expired (no upload until the person signs in again). */
  session: () => string | undefined;
  store: () => KeyPackageStore | undefined;
  /** Seconds since the epoch (tests move it). */
  now?: () => number;
}

/** What our KeyPackage leaves say they understand: the roles extension, and the dictionary the last-resort mark rides in. */
export function directoryCapabilities(suite: CipherSuite): Capabilities {
  const base = roleCapabilities(suite);
  return { ...base, extensions: [...base.extensions, APP_DATA_DICTIONARY_EXTENSION_TYPE] };
}

/** One fresh KeyPackage: its ref (base64url), its encoding, and the record of its private parts. */
export async function newKeyPackage(suite: CipherSuite, lastResort: boolean, nowS: number): Promise<{ ref: string; bytes: Uint8Array; record: StoredKeyPackage }> {
  const pseudonym = newPseudonym();
  const identity = await generateIdentity(suite, pseudonym);
  const notAfter = nowS + LIFETIME_S;
  const gen = await generateKeyPackage(suite, identity, {
    capabilities: directoryCapabilities(suite),
    lifetime: { notBefore: BigInt(nowS - 3600), notAfter: BigInt(notAfter) },
    ...(lastResort ? { extensions: [lastResortExtension()] } : {}),
  });
  const bytes = encode(keyPackageCodec, gen.keyPackage);
  return {
    ref: toB64(gen.ref),
    bytes,
    record: {
      v: 1,
      keyPackage: toB64(bytes),
      initPrivateKey: toB64(gen.privateKeys.initPrivateKey),
      encryptionPrivateKey: toB64(gen.privateKeys.encryptionPrivateKey),
      signaturePrivateKey: toB64(gen.privateKeys.signaturePrivateKey),
      pseudonym: toB64(pseudonym),
      lastResort,
      notAfter,
      createdAt: nowS * 1000,
    },
  };
}

export class KeyPackageSupply {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: SupplyDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Math.floor(Date.now() / 1000);
  }

  /** Top the supply up; calls while one runs make it run once more after it (never two at once). */
  replenish(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  private async once(): Promise<void> {
    const session = this.deps.session();
    const store = this.deps.store();
    if (session === undefined || store === undefined) return;
    const api = this.deps.api();
    const now = this.now();
    const counts = await api.countKeyPackages(session);
    const local = await store.all();
    await this.prune(store, local, now);
    let newestLastResort = 0;
    for (const r of local.values()) if (r?.lastResort === true) newestLastResort = Math.max(newestLastResort, r.notAfter);
    const wantLastResort = !counts.lastResort || newestLastResort - now < LAST_RESORT_RENEW_S;
    const wantOneTime = counts.oneTime < LOW ? BATCH - counts.oneTime : 0;
    if (!wantLastResort && wantOneTime === 0) return;
    const suite = this.deps.suite;
    const oneTime = await Promise.all(Array.from({ length: wantOneTime }, () => newKeyPackage(suite, false, now)));
    const lastResort = wantLastResort ? await newKeyPackage(suite, true, now) : undefined;
    const made = [...oneTime, ...(lastResort === undefined ? [] : [lastResort])];
    // Private parts first: the relay may hand a package out the moment it has it.
    await store.put(new Map(made.map((k) => [k.ref, k.record])));
    // Should this fail, the relay may still have stored them (an answer lost on the way): the private
    // parts stay until they expire, and the next connection tries again.
    await api.uploadKeyPackages(
      session,
      oneTime.map((k) => k.bytes),
      lastResort?.bytes,
    );
  }

  /** Forget private parts no Welcome can use any more: past their lifetime (plus the relay's keeping time), or unreadable. */
  private async prune(store: KeyPackageStore, local: Map<string, StoredKeyPackage | undefined>, now: number): Promise<void> {
    const gone: string[] = [];
    for (const [ref, r] of local) {
      if (r === undefined || r.notAfter + KEEP_AFTER_EXPIRY_S < now) {
        gone.push(ref);
        local.delete(ref);
      }
    }
    await store.delete(gone);
  }
}
