/**
 * The committer's side of adding members (RFC 9420 §12.4.3, §12.4.3.1): a
 * signed GroupInfo for the new epoch (optionally carrying the ratchet tree
 * and the external public key) and a Welcome that encrypts it under the
 * welcome key, with GroupSecrets HPKE-encrypted to each new member's init key.
 *
 *   GroupSecrets { joiner_secret, path_secret at LCA(committer, new member), psks }
 *     --EncryptWithLabel(init_key, "Welcome", encrypted_group_info)--> EncryptedGroupSecrets
 */
import type { CipherSuite } from '../../crypto/provider.ts';
import { encode } from '../codec/codec.ts';
import { encryptWithLabelToMany, makeKeyPackageRef, signWithLabel } from '../keys/crypto-ops.ts';
import { ExtensionType, externalPubCodec, type Extension } from '../group/extensions.ts';
import { groupInfoCodec, groupInfoTbsCodec, type GroupInfo, type GroupInfoTBS } from './group-info.ts';
import type { GroupState } from '../group/group-state.ts';
import { deriveExternalKeyPair, deriveWelcomeKeyNonce, type JoinerSecret, type WelcomeSecret } from '../keys/key-schedule.ts';
import { keyPackageCodec, type KeyPackage } from './key-package.ts';
import type { PreSharedKeyId } from '../keys/psk.ts';
import { isAncestorOrSelf, level, toNodeIndex, type LeafIndex, type NodeIndex } from '../tree/tree-math.ts';
import { groupSecretsCodec, type EncryptedGroupSecrets, type GroupSecrets, type Welcome } from './welcome.ts';

export interface GroupInfoOptions {
  /** Put the ratchet tree in the GroupInfo (ratchet_tree extension, §12.4.3.3). Default true. */
  readonly ratchetTree?: boolean;
  /** Put external_pub in the GroupInfo so outsiders can join by external Commit (§12.4.3.2). Default true. */
  readonly externalPub?: boolean;
  /** More GroupInfo extensions of the application's choosing. */
  readonly extensions?: readonly Extension[];
}

/** §12.4.3: sign a GroupInfo describing `state`'s current epoch. */
export async function createGroupInfo(state: GroupState, options: GroupInfoOptions = {}): Promise<GroupInfo> {
  const cs = state.suite;
  const extensions: Extension[] = [];
  if (options.ratchetTree ?? true) {
    extensions.push({ extensionType: ExtensionType.ratchetTree, extensionData: state.tree.encode() });
  }
  if (options.externalPub ?? true) {
    const { publicKey } = await deriveExternalKeyPair(cs, state.keys.externalSecret);
    extensions.push({ extensionType: ExtensionType.externalPub, extensionData: encode(externalPubCodec, { externalPub: publicKey }) });
  }
  extensions.push(...(options.extensions ?? []));
  const tbs: GroupInfoTBS = {
    groupContext: state.context,
    extensions,
    confirmationTag: state.confirmationTag,
    signer: state.ownLeaf,
  };
  const signature = await signWithLabel(cs, state.signaturePrivateKey, 'GroupInfoTBS', encode(groupInfoTbsCodec, tbs));
  return { ...tbs, signature };
}

export interface WelcomeMember {
  readonly keyPackage: KeyPackage;
  readonly leaf: LeafIndex;
}

/**
 * §12.4.3.1: the path secret a new member at `leaf` gets: the one of the
 * lowest node of the committer's filtered direct path above it.
 */
function pathSecretFor(pathSecrets: ReadonlyMap<NodeIndex, Uint8Array> | undefined, leaf: LeafIndex): Uint8Array | undefined {
  if (pathSecrets === undefined) return undefined;
  const me = toNodeIndex(leaf);
  // Among the ancestors of one leaf, the lowest is the one of smallest level.
  let lowest: NodeIndex | undefined;
  for (const x of pathSecrets.keys()) {
    if (isAncestorOrSelf(x, me) && (lowest === undefined || level(x) < level(lowest))) lowest = x;
  }
  return lowest === undefined ? undefined : pathSecrets.get(lowest);
}

/**
 * §12.4.3.1: encrypt `groupInfo` under the welcome key and the GroupSecrets
 * to each new member (concurrently, with the shared context hashed once).
 */
export async function createWelcome(
  cs: CipherSuite,
  groupInfo: GroupInfo,
  joinerSecret: JoinerSecret,
  welcomeSecret: WelcomeSecret,
  members: readonly WelcomeMember[],
  pathSecrets: ReadonlyMap<NodeIndex, Uint8Array> | undefined,
  psks: readonly PreSharedKeyId[],
): Promise<Welcome> {
  const { key, nonce } = deriveWelcomeKeyNonce(cs, welcomeSecret);
  const encryptedGroupInfo = await cs.aead.seal(key, nonce, new Uint8Array(0), encode(groupInfoCodec, groupInfo));
  key.fill(0);
  nonce.fill(0);
  const plaintexts = members.map((m) => {
    const pathSecret = pathSecretFor(pathSecrets, m.leaf);
    const gs: GroupSecrets = pathSecret === undefined ? { joinerSecret, psks } : { joinerSecret, pathSecret: { pathSecret }, psks };
    return encode(groupSecretsCodec, gs);
  });
  // The context (the encrypted GroupInfo, large in a large group) is hashed once for all new members.
  const cts = await encryptWithLabelToMany(
    cs,
    members.map((m) => m.keyPackage.initKey),
    'Welcome',
    encryptedGroupInfo,
    plaintexts,
  );
  for (const p of plaintexts) p.fill(0);
  const secrets: EncryptedGroupSecrets[] = members.map((m, i) => ({
    newMember: makeKeyPackageRef(cs, encode(keyPackageCodec, m.keyPackage)),
    encryptedGroupSecrets: { kemOutput: cts[i]!.kemOutput, ciphertext: cts[i]!.ciphertext },
  }));
  return { cipherSuite: cs.id, secrets, encryptedGroupInfo };
}
