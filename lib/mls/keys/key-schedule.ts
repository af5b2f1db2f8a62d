/**
 * The MLS key schedule (RFC 9420 §8): how each epoch's secrets are derived from
 * the previous epoch's init secret, the commit secret, the PSKs and the new
 * GroupContext; plus the exporter (§8.5), external init (§8.3) and the MACs
 * keyed by epoch secrets (confirmation tag §6.1, membership tag §6.2).
 *
 * Extract(salt, ikm): salt comes in from above, IKM from the left.
 *
 *                     init_secret[n-1]      (or HPKE export, §8.3 external init)
 *                            |
 *                            v
 *     commit_secret ---> Extract
 *                            |
 *                            v
 *                  ExpandWithLabel("joiner", GroupContext[n], Nh)
 *                            |
 *                            v
 *                      joiner_secret  ----------------------->  sent in Welcome
 *                            |
 *                            v
 *     psk_secret (or 0) -> Extract  ==  "intermediate secret"
 *                            |
 *                            +--> DeriveSecret("welcome") = welcome_secret
 *                            |        +--> ExpandWithLabel("key"/"nonce") encrypts GroupInfo
 *                            v
 *                  ExpandWithLabel("epoch", GroupContext[n], Nh)
 *                            |
 *                            v
 *                      epoch_secret
 *                            |
 *                            +--> DeriveSecret("sender data")    = sender_data_secret
 *                            +--> DeriveSecret("encryption")     = encryption_secret
 *                            +--> DeriveSecret("exporter")       = exporter_secret
 *                            +--> DeriveSecret("external")       = external_secret
 *                            +--> DeriveSecret("confirm")        = confirmation_key
 *                            +--> DeriveSecret("membership")     = membership_key
 *                            +--> DeriveSecret("resumption")     = resumption_psk
 *                            +--> DeriveSecret("authentication") = epoch_authenticator
 *                            v
 *                      DeriveSecret("init") = init_secret[n]  --> next epoch
 *
 * Every secret has its own branded type, so passing (say) a joiner secret
 * where an init secret belongs does not compile. Intermediate values are wiped
 * as soon as they are used; inputs are never mutated, so callers wipe what
 * they own (`wipeSecret`, `wipeEpochSecrets`).
 *
 * The GroupContext enters as its TLS encoding (encode it once per epoch with
 * `groupContextCodec`), since the schedule only ever hashes it.
 */
import type { CipherSuite, KeyPair } from '../../crypto/provider.ts';
import { bytesEqual } from '../../bytes.ts';
import { deriveSecret, expandWithLabel } from './crypto-ops.ts';
import { CryptoError, UsageError } from '../errors.ts';
import type { PskSecret } from './psk.ts';

declare const secretBrand: unique symbol;
/** A byte string that is one specific key-schedule secret. */
export type Secret<Name extends string> = Uint8Array & { readonly [secretBrand]: Name };

export type InitSecret = Secret<'init_secret'>;
export type CommitSecret = Secret<'commit_secret'>;
export type JoinerSecret = Secret<'joiner_secret'>;
/** Extract(joiner_secret, psk_secret): the node both welcome and epoch secrets hang off. */
export type IntermediateSecret = Secret<'intermediate_secret'>;
export type WelcomeSecret = Secret<'welcome_secret'>;
export type EpochSecret = Secret<'epoch_secret'>;
export type SenderDataSecret = Secret<'sender_data_secret'>;
export type EncryptionSecret = Secret<'encryption_secret'>;
export type ExporterSecret = Secret<'exporter_secret'>;
export type ExternalSecret = Secret<'external_secret'>;
export type ConfirmationKey = Secret<'confirmation_key'>;
export type MembershipKey = Secret<'membership_key'>;
export type ResumptionPsk = Secret<'resumption_psk'>;
export type EpochAuthenticator = Secret<'epoch_authenticator'>;
export type { PskSecret };

/**
 * Adopt bytes as a given secret. Only for values whose role is known from
 * where they came from: a decrypted GroupSecrets.joiner_secret, a path
 * secret's commit secret, a stored state, a test vector.
 */
export function asSecret<S extends Secret<string>>(bytes: Uint8Array): S {
  return bytes as S;
}
export const asInitSecret = (b: Uint8Array): InitSecret => asSecret<InitSecret>(b);
export const asCommitSecret = (b: Uint8Array): CommitSecret => asSecret<CommitSecret>(b);
export const asJoinerSecret = (b: Uint8Array): JoinerSecret => asSecret<JoinerSecret>(b);
export const asPskSecret = (b: Uint8Array): PskSecret => b as PskSecret;

/** Overwrite a secret we are done with. */
export function wipeSecret(secret: Uint8Array | undefined): void {
  secret?.fill(0);
}

function checkLength(cs: CipherSuite, secret: Uint8Array, what: string): void {
  if (secret.length !== cs.kdf.size) {
    throw new UsageError(`${what} must be ${cs.kdf.size} bytes, got ${secret.length}`);
  }
}

/** §12.4.2: a Commit without an UpdatePath uses the all-zero commit secret. */
export function zeroCommitSecret(cs: CipherSuite): CommitSecret {
  return new Uint8Array(cs.kdf.size) as CommitSecret;
}

/** §11: a new group's first epoch secret is fresh randomness of length Nh. */
export function randomEpochSecret(cs: CipherSuite): EpochSecret {
  return cs.randomBytes(cs.kdf.size) as EpochSecret;
}

/** joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh). */
export function deriveJoinerSecret(
  cs: CipherSuite,
  initSecret: InitSecret,
  commitSecret: CommitSecret,
  groupContext: Uint8Array,
): JoinerSecret {
  checkLength(cs, initSecret, 'init_secret');
  checkLength(cs, commitSecret, 'commit_secret');
  const prk = cs.kdf.extract(initSecret, commitSecret);
  const joiner = expandWithLabel(cs, prk, 'joiner', groupContext, cs.kdf.size);
  prk.fill(0);
  return joiner as JoinerSecret;
}

/** Extract(joiner_secret, psk_secret): shared parent of welcome_secret and epoch_secret. */
export function deriveIntermediateSecret(cs: CipherSuite, joinerSecret: JoinerSecret, pskSecret: PskSecret): IntermediateSecret {
  checkLength(cs, joinerSecret, 'joiner_secret');
  checkLength(cs, pskSecret, 'psk_secret');
  return cs.kdf.extract(joinerSecret, pskSecret) as IntermediateSecret;
}

export function deriveWelcomeSecret(cs: CipherSuite, intermediate: IntermediateSecret): WelcomeSecret {
  return deriveSecret(cs, intermediate, 'welcome') as WelcomeSecret;
}

export function deriveEpochSecret(cs: CipherSuite, intermediate: IntermediateSecret, groupContext: Uint8Array): EpochSecret {
  return expandWithLabel(cs, intermediate, 'epoch', groupContext, cs.kdf.size) as EpochSecret;
}

/** §12.4.3.1: the AEAD key and nonce that encrypt the GroupInfo in a Welcome. */
export interface WelcomeKeyNonce {
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
}

export function deriveWelcomeKeyNonce(cs: CipherSuite, welcomeSecret: WelcomeSecret): WelcomeKeyNonce {
  return {
    key: expandWithLabel(cs, welcomeSecret, 'key', new Uint8Array(0), cs.aead.keySize),
    nonce: expandWithLabel(cs, welcomeSecret, 'nonce', new Uint8Array(0), cs.aead.nonceSize),
  };
}

/** The secrets of one epoch, all derived from its epoch_secret (§8, table "Epoch-Derived Secrets"). */
export interface EpochSecrets {
  readonly senderDataSecret: SenderDataSecret;
  readonly encryptionSecret: EncryptionSecret;
  readonly exporterSecret: ExporterSecret;
  readonly externalSecret: ExternalSecret;
  readonly confirmationKey: ConfirmationKey;
  readonly membershipKey: MembershipKey;
  readonly resumptionPsk: ResumptionPsk;
  readonly epochAuthenticator: EpochAuthenticator;
  /** init_secret[n], the input to the next epoch's schedule. */
  readonly initSecret: InitSecret;
}

/** Derive every epoch secret from epoch_secret. Does not wipe its input. */
export function deriveEpochSecrets(cs: CipherSuite, epochSecret: EpochSecret): EpochSecrets {
  checkLength(cs, epochSecret, 'epoch_secret');
  return {
    senderDataSecret: deriveSecret(cs, epochSecret, 'sender data') as SenderDataSecret,
    encryptionSecret: deriveSecret(cs, epochSecret, 'encryption') as EncryptionSecret,
    exporterSecret: deriveSecret(cs, epochSecret, 'exporter') as ExporterSecret,
    externalSecret: deriveSecret(cs, epochSecret, 'external') as ExternalSecret,
    confirmationKey: deriveSecret(cs, epochSecret, 'confirm') as ConfirmationKey,
    membershipKey: deriveSecret(cs, epochSecret, 'membership') as MembershipKey,
    resumptionPsk: deriveSecret(cs, epochSecret, 'resumption') as ResumptionPsk,
    epochAuthenticator: deriveSecret(cs, epochSecret, 'authentication') as EpochAuthenticator,
    initSecret: deriveSecret(cs, epochSecret, 'init') as InitSecret,
  };
}

export function wipeEpochSecrets(e: EpochSecrets): void {
  for (const s of Object.values(e) as Uint8Array[]) s.fill(0);
}

/** What a member (or a joiner) ends up with after running the schedule for one epoch. */
export interface KeyScheduleEpoch {
  readonly joinerSecret: JoinerSecret;
  readonly welcomeSecret: WelcomeSecret;
  readonly secrets: EpochSecrets;
}

/**
 * Run the schedule from joiner_secret on (what a joiner does with the
 * GroupSecrets of a Welcome). The intermediate and epoch secrets are wiped.
 */
export function keyScheduleFromJoiner(
  cs: CipherSuite,
  joinerSecret: JoinerSecret,
  pskSecret: PskSecret,
  groupContext: Uint8Array,
): { welcomeSecret: WelcomeSecret; secrets: EpochSecrets } {
  const intermediate = deriveIntermediateSecret(cs, joinerSecret, pskSecret);
  const welcomeSecret = deriveWelcomeSecret(cs, intermediate);
  const epochSecret = deriveEpochSecret(cs, intermediate, groupContext);
  intermediate.fill(0);
  const secrets = deriveEpochSecrets(cs, epochSecret);
  epochSecret.fill(0);
  return { welcomeSecret, secrets };
}

/**
 * Run the whole schedule for the epoch a Commit creates (what the committer
 * and the existing members do). `groupContext` is the new epoch's encoded
 * GroupContext. Inputs are not mutated; the caller wipes the old init secret.
 */
export function advanceKeySchedule(
  cs: CipherSuite,
  initSecret: InitSecret,
  commitSecret: CommitSecret,
  pskSecret: PskSecret,
  groupContext: Uint8Array,
): KeyScheduleEpoch {
  const joinerSecret = deriveJoinerSecret(cs, initSecret, commitSecret, groupContext);
  return { joinerSecret, ...keyScheduleFromJoiner(cs, joinerSecret, pskSecret, groupContext) };
}

// ---------------------------------------------------------------------------
// §8.5 Exporter

/**
 * MLS-Exporter(Label, Context, Length) =
 *   ExpandWithLabel(DeriveSecret(exporter_secret, Label), "exported", Hash(Context), Length)
 */
export function mlsExporter(
  cs: CipherSuite,
  exporterSecret: ExporterSecret,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const derived = deriveSecret(cs, exporterSecret, label);
  const contextHash = cs.hash.digest(context);
  const out = expandWithLabel(cs, derived, 'exported', contextHash, length);
  derived.fill(0);
  return out;
}

// ---------------------------------------------------------------------------
// §8 external key pair and §8.3 external init

/** external_priv, external_pub = KEM.DeriveKeyPair(external_secret). */
export function deriveExternalKeyPair(cs: CipherSuite, externalSecret: ExternalSecret): Promise<KeyPair> {
  return cs.hpke.deriveKeyPair(externalSecret);
}

const EXTERNAL_INIT_LABEL = new TextEncoder().encode('MLS 1.0 external init secret');

/**
 * The joiner's side of §8.3: SetupBaseS(external_pub, "") then export
 * "MLS 1.0 external init secret". The kemOutput goes into an ExternalInit proposal.
 */
export async function externalInitSender(
  cs: CipherSuite,
  externalPub: Uint8Array,
): Promise<{ kemOutput: Uint8Array; initSecret: InitSecret }> {
  const { kemOutput, secret } = await cs.hpke.exportSender(externalPub, new Uint8Array(0), EXTERNAL_INIT_LABEL, cs.kdf.size);
  return { kemOutput, initSecret: secret as InitSecret };
}

/**
 * The members' side of §8.3: recover the joiner's init secret from the
 * ExternalInit proposal's kem_output with the group's external private key.
 * A malformed kem_output is a CryptoError.
 */
export async function externalInitReceiver(
  cs: CipherSuite,
  externalPriv: Uint8Array,
  kemOutput: Uint8Array,
): Promise<InitSecret> {
  try {
    const secret = await cs.hpke.exportReceiver(externalPriv, kemOutput, new Uint8Array(0), EXTERNAL_INIT_LABEL, cs.kdf.size);
    return secret as InitSecret;
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError('external-init', 'cannot open the ExternalInit kem_output', { cause: err });
  }
}

// ---------------------------------------------------------------------------
// MACs keyed by epoch secrets

/** §6.1: confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash). */
export function computeConfirmationTag(
  cs: CipherSuite,
  confirmationKey: ConfirmationKey,
  confirmedTranscriptHash: Uint8Array,
): Uint8Array {
  return cs.hash.mac(confirmationKey, confirmedTranscriptHash);
}

/** Constant-time check of a received confirmation tag. */
export function verifyConfirmationTag(
  cs: CipherSuite,
  confirmationKey: ConfirmationKey,
  confirmedTranscriptHash: Uint8Array,
  tag: Uint8Array,
): boolean {
  return bytesEqual(computeConfirmationTag(cs, confirmationKey, confirmedTranscriptHash), tag);
}

/** §6.2: membership_tag = MAC(membership_key, AuthenticatedContentTBM). */
export function computeMembershipTag(cs: CipherSuite, membershipKey: MembershipKey, authenticatedContentTbm: Uint8Array): Uint8Array {
  return cs.hash.mac(membershipKey, authenticatedContentTbm);
}

export function verifyMembershipTag(
  cs: CipherSuite,
  membershipKey: MembershipKey,
  authenticatedContentTbm: Uint8Array,
  tag: Uint8Array,
): boolean {
  return bytesEqual(computeMembershipTag(cs, membershipKey, authenticatedContentTbm), tag);
}
