/**
 * The cryptographic half of joining a group from a Welcome (RFC 9420
 * §12.4.3.1): find the EncryptedGroupSecrets addressed to our KeyPackage,
 * HPKE-open it into GroupSecrets, run the key schedule from the joiner secret
 * (with the PSKs it names) to get the welcome key, open the GroupInfo, check
 * its signature (§12.4.3) and its confirmation tag.
 *
 *   Welcome.secrets[i] --(init_key_priv, "Welcome", ctx=encrypted_group_info)--> GroupSecrets
 *   GroupSecrets.joiner_secret + psk_secret --> welcome_secret --> (key, nonce)
 *   Welcome.encrypted_group_info --AEAD(key, nonce, aad="")--> GroupInfo
 *   GroupInfo.signature   verified with the signer leaf's signature key
 *   GroupInfo.confirmation_tag == MAC(confirmation_key, confirmed_transcript_hash)
 *
 * Everything a Welcome carries is hostile: each failure is a typed error with
 * a rule ID. Building the ratchet tree, validating it and placing our path
 * secrets is the tree's business; this module hands back the decrypted
 * GroupSecrets and GroupInfo and the new epoch's secrets for that.
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { decode, encode } from '../codec/codec.ts';
import { bytesEqual } from '../../bytes.ts';
import { decryptWithLabel, makeKeyPackageRef, verifyWithLabel } from '../keys/crypto-ops.ts';
import { CryptoError, ValidationError } from '../errors.ts';
import { groupContextCodec } from '../group/group-context.ts';
import { keyPackageCodec, type KeyPackageIn } from './key-package.ts';
import { groupInfoCodec, groupInfoTbsCodec, type GroupInfo } from './group-info.ts';
import {
  asJoinerSecret,
  deriveEpochSecret,
  deriveEpochSecrets,
  deriveIntermediateSecret,
  deriveWelcomeKeyNonce,
  deriveWelcomeSecret,
  verifyConfirmationTag,
  wipeEpochSecrets,
  type EpochSecrets,
  type IntermediateSecret,
  type WelcomeSecret,
} from '../keys/key-schedule.ts';
import {
  computePskSecret,
  resolvePsks,
  validateWelcomePskIds,
  type PreSharedKeyId,
  type PskLookup,
  type ResumptionPskUsage,
} from '../keys/psk.ts';
import { computeInterimTranscriptHash } from '../keys/transcript-hash.ts';
import { groupSecretsCodec, type EncryptedGroupSecrets, type GroupSecrets, type Welcome } from './welcome.ts';

/** Our side of the Welcome: the KeyPackage we published and its init private key. */
export interface WelcomeRecipient {
  /** MakeKeyPackageRef of our KeyPackage (§5.2). */
  readonly keyPackageRef: Uint8Array;
  /** cipher_suite of our KeyPackage. */
  readonly cipherSuite: number;
  /** The HPKE private key for the KeyPackage's init_key. */
  readonly initPrivateKey: Uint8Array;
}

/** Our WelcomeRecipient for a KeyPackage we published (the ref is MakeKeyPackageRef of its encoding). */
export function welcomeRecipientFor(cs: CipherSuite, keyPackage: KeyPackageIn, initPrivateKey: Uint8Array): WelcomeRecipient {
  return {
    keyPackageRef: makeKeyPackageRef(cs, encode(keyPackageCodec, keyPackage)),
    cipherSuite: keyPackage.cipherSuite,
    initPrivateKey,
  };
}

/** §12.4.3.1 first step: the entry of `welcome.secrets` addressed to us. */
export function findEncryptedGroupSecrets(welcome: Welcome, keyPackageRef: Uint8Array): EncryptedGroupSecrets {
  const entry = welcome.secrets.find((s) => bytesEqual(s.newMember, keyPackageRef));
  // V-WEL-2: no entry for one of our KeyPackages is an error.
  if (entry === undefined) throw new ValidationError('V-WEL-2', 'the Welcome has no secrets for our KeyPackage');
  return entry;
}

/**
 * §12.4.3.1: GroupSecrets = DecryptWithLabel(init_key_priv, "Welcome",
 * encrypted_group_info, kem_output, ciphertext), decoded strictly.
 */
export async function decryptGroupSecrets(
  cs: CipherSuite,
  welcome: Welcome,
  recipient: WelcomeRecipient,
): Promise<GroupSecrets> {
  // V-WEL-1: the Welcome's suite must be our KeyPackage's suite.
  if (welcome.cipherSuite !== recipient.cipherSuite || cs.id !== welcome.cipherSuite) {
    throw new ValidationError('V-WEL-1', `Welcome cipher suite ${welcome.cipherSuite} differs from the KeyPackage's ${recipient.cipherSuite}`);
  }
  const entry = findEncryptedGroupSecrets(welcome, recipient.keyPackageRef);
  let plaintext: Uint8Array;
  try {
    plaintext = await decryptWithLabel(
      cs,
      recipient.initPrivateKey,
      'Welcome',
      welcome.encryptedGroupInfo,
      entry.encryptedGroupSecrets.kemOutput,
      entry.encryptedGroupSecrets.ciphertext,
    );
  } catch (err) {
    // V-WEL-3: the group secrets must decrypt under our init key.
    throw new CryptoError('V-WEL-3', '[V-WEL-3] cannot decrypt the Welcome group secrets', { cause: err });
  }
  let secrets: GroupSecrets;
  try {
    secrets = decode(groupSecretsCodec, plaintext);
  } finally {
    plaintext.fill(0);
  }
  const pathSecretLength = secrets.pathSecret?.pathSecret.length;
  // V-WEL-4: joiner_secret and a path_secret are KDF.Nh long (§8, §7.4).
  if (secrets.joinerSecret.length !== cs.kdf.size || (pathSecretLength !== undefined && pathSecretLength !== cs.kdf.size)) {
    secrets.joinerSecret.fill(0);
    secrets.pathSecret?.pathSecret.fill(0);
    throw new ValidationError(
      'V-WEL-4',
      `joiner_secret/path_secret of ${secrets.joinerSecret.length}/${pathSecretLength ?? '-'} bytes, expected ${cs.kdf.size}`,
    );
  }
  return secrets;
}

/** The secrets a joiner derives from GroupSecrets before it has seen the GroupInfo. */
export interface JoinerKeys {
  /** Extract(joiner_secret, psk_secret); the epoch secret hangs off it once the GroupContext is known. */
  readonly intermediateSecret: IntermediateSecret;
  readonly welcomeSecret: WelcomeSecret;
  /** reinit/branch if the Welcome resumes another group (§11.2, §11.3). */
  readonly resumptionUsage: ResumptionPskUsage | undefined;
}

/**
 * §12.4.3.1: check the PSKs GroupSecrets names and derive welcome_secret from
 * joiner_secret and psk_secret. `lookup` resolves each PSK id to its bytes.
 * The caller wipes both returned secrets when done.
 */
export function deriveJoinerKeys(cs: CipherSuite, groupSecrets: GroupSecrets, lookup: PskLookup = () => undefined): JoinerKeys {
  const resumptionUsage = validateWelcomePskIds(groupSecrets.psks);
  const pskSecret = computePskSecret(cs, resolvePsks(groupSecrets.psks, lookup));
  const intermediateSecret = deriveIntermediateSecret(cs, asJoinerSecret(groupSecrets.joinerSecret), pskSecret);
  pskSecret.fill(0);
  const welcomeSecret = deriveWelcomeSecret(cs, intermediateSecret);
  return { intermediateSecret, welcomeSecret, resumptionUsage };
}

/** §12.4.3.1: open `encrypted_group_info` with the welcome key and nonce and decode it strictly. */
export async function decryptGroupInfo(cs: CipherSuite, welcome: Welcome, welcomeSecret: WelcomeSecret): Promise<GroupInfo> {
  const { key, nonce } = deriveWelcomeKeyNonce(cs, welcomeSecret);
  const plaintext = await cs.aead.open(key, nonce, new Uint8Array(0), welcome.encryptedGroupInfo);
  key.fill(0);
  nonce.fill(0);
  // V-WEL-5: the GroupInfo must decrypt under the welcome key.
  if (plaintext === null) throw new CryptoError('V-WEL-5', '[V-WEL-5] cannot decrypt the Welcome GroupInfo');
  return decode(groupInfoCodec, plaintext);
}

/** §12.4.3: does `signature` cover GroupInfoTBS under `signerPublicKey`? */
export function verifyGroupInfoSignature(cs: CipherSuite, groupInfo: GroupInfo, signerPublicKey: Uint8Array): Promise<boolean> {
  const tbs = encode(groupInfoTbsCodec, groupInfo);
  return verifyWithLabel(cs, signerPublicKey, 'GroupInfoTBS', tbs, groupInfo.signature);
}

export interface WelcomeJoinOptions {
  /**
   * The signature key of the leaf at `index` in the group's ratchet tree, or
   * undefined when that leaf is blank or absent. The decrypted (not yet
   * verified) GroupInfo is passed along so that a joiner can take the tree
   * from its ratchet_tree extension.
   */
  readonly signerPublicKey: (index: number, groupInfo: GroupInfo) => Uint8Array | undefined;
  /** Resolves PSKs named by the GroupSecrets; omitted means we hold none. */
  readonly pskLookup?: PskLookup;
}

export interface WelcomeJoinResult {
  readonly groupInfo: GroupInfo;
  /** The encoded GroupContext of the epoch we join (key-schedule input). */
  readonly groupContextBytes: Uint8Array;
  readonly secrets: EpochSecrets;
  readonly interimTranscriptHash: Uint8Array;
  /** GroupSecrets.path_secret, for the tree to place on our direct path. */
  readonly pathSecret: Uint8Array | undefined;
  /** GroupSecrets.psks, for the reinit/branch checks against the old group. */
  readonly psks: readonly PreSharedKeyId[];
  readonly resumptionUsage: ResumptionPskUsage | undefined;
}

/**
 * The whole cryptographic join of §12.4.3.1. What it leaves to the caller:
 * group_id uniqueness, ratchet-tree integrity (tree hash against
 * `groupInfo.groupContext.treeHash`, parent hashes, leaf validation), finding
 * our own leaf, the path secret, and the reinit/branch group checks.
 * The joiner secret, PSK secret and intermediate secrets are wiped whether
 * the join succeeds or not.
 */
export async function processWelcomeSecrets(
  cs: CipherSuite,
  welcome: Welcome,
  recipient: WelcomeRecipient,
  options: WelcomeJoinOptions,
): Promise<WelcomeJoinResult> {
  const groupSecrets = await decryptGroupSecrets(cs, welcome, recipient);
  let keys: JoinerKeys | undefined;
  try {
    keys = deriveJoinerKeys(cs, groupSecrets, options.pskLookup);
    const groupInfo = await decryptGroupInfo(cs, welcome, keys.welcomeSecret);
    keys.welcomeSecret.fill(0);

    const signerKey = options.signerPublicKey(groupInfo.signer, groupInfo);
    // V-WEL-6: the signer leaf must exist and not be blank (§12.4.3.1).
    if (signerKey === undefined) throw new ValidationError('V-WEL-6', `GroupInfo signer ${groupInfo.signer} is blank or absent`);
    // V-WEL-7: the GroupInfo signature must verify (§12.4.3).
    if (!(await verifyGroupInfoSignature(cs, groupInfo, signerKey))) {
      throw new CryptoError('V-WEL-7', '[V-WEL-7] GroupInfo signature does not verify');
    }
    const context = groupInfo.groupContext;
    // V-WEL-8: the GroupInfo's suite must be the KeyPackage's (§12.4.3.1).
    if (context.cipherSuite !== recipient.cipherSuite) {
      throw new ValidationError('V-WEL-8', `GroupInfo cipher suite ${context.cipherSuite} differs from the KeyPackage's ${recipient.cipherSuite}`);
    }
    // V-WEL-9: a reinit/branch Welcome starts the new group at epoch 1 (§11.2, §11.3, §12.4.3.1).
    if (keys.resumptionUsage !== undefined && context.epoch !== 1n) {
      throw new ValidationError('V-WEL-9', `a resumption (reinit/branch) Welcome must be for epoch 1, not ${context.epoch}`);
    }

    const groupContextBytes = encode(groupContextCodec, context);
    const epochSecret = deriveEpochSecret(cs, keys.intermediateSecret, groupContextBytes);
    const secrets = deriveEpochSecrets(cs, epochSecret);
    epochSecret.fill(0);

    // V-WEL-10: confirmation_tag == MAC(confirmation_key, confirmed_transcript_hash) (§12.4.3.1).
    if (!verifyConfirmationTag(cs, secrets.confirmationKey, context.confirmedTranscriptHash, groupInfo.confirmationTag)) {
      wipeEpochSecrets(secrets);
      throw new CryptoError('V-WEL-10', '[V-WEL-10] GroupInfo confirmation tag does not match');
    }
    return {
      groupInfo,
      groupContextBytes,
      secrets,
      interimTranscriptHash: computeInterimTranscriptHash(cs, context.confirmedTranscriptHash, groupInfo.confirmationTag),
      pathSecret: groupSecrets.pathSecret?.pathSecret,
      psks: groupSecrets.psks,
      resumptionUsage: keys.resumptionUsage,
    };
  } finally {
    groupSecrets.joinerSecret.fill(0);
    keys?.intermediateSecret.fill(0);
    keys?.welcomeSecret.fill(0);
  }
}
