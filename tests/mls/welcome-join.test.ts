/**
 * Joining from a Welcome (RFC 9420 §12.4.3.1) with Welcomes we build
 * ourselves: the happy path over all suites (with PSKs), and one test per
 * rule ID for every way a hostile Welcome can be wrong.
 */
import { describe, expect, it } from 'vitest';
import type { CipherSuite } from '../../lib/crypto/provider.ts';
import { SUPPORTED_CIPHER_SUITES, getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { encryptWithLabel, signWithLabel } from '../../lib/mls/keys/crypto-ops.ts';
import { CryptoError, DecodeError, ValidationError } from '../../lib/mls/errors.ts';
import { ProtocolVersion, groupContextCodec, type GroupContext } from '../../lib/mls/group/group-context.ts';
import { groupInfoCodec, groupInfoTbsCodec, type GroupInfo } from '../../lib/mls/join/group-info.ts';
import {
  asJoinerSecret,
  computeConfirmationTag,
  deriveWelcomeKeyNonce,
  keyScheduleFromJoiner,
} from '../../lib/mls/keys/key-schedule.ts';
import {
  PskType,
  ResumptionPskUsage,
  computePskSecret,
  preSharedKeyIdEqual,
  type PreSharedKeyId,
  type ResolvedPsk,
} from '../../lib/mls/keys/psk.ts';
import { computeInterimTranscriptHash } from '../../lib/mls/keys/transcript-hash.ts';
import { leafIndex } from '../../lib/mls/tree/tree-math.ts';
import { groupSecretsCodec, type GroupSecrets, type Welcome } from '../../lib/mls/join/welcome.ts';
import { processWelcomeSecrets, type WelcomeRecipient } from '../../lib/mls/join/welcome-join.ts';

interface BuildOptions {
  psks?: ResolvedPsk[];
  epoch?: bigint;
  groupInfoSuite?: number;
  badTag?: boolean;
  joinerSecretLength?: number;
  rawGroupSecrets?: Uint8Array;
  rawGroupInfo?: Uint8Array;
}

interface Built {
  welcome: Welcome;
  recipient: WelcomeRecipient;
  signerPub: Uint8Array;
  joinerSecret: Uint8Array;
  groupContext: GroupContext;
  epochAuthenticator: string;
}

/** A committer's side of §12.4.3.1, enough to produce valid (or chosen-invalid) Welcomes. */
async function buildWelcome(cs: CipherSuite, o: BuildOptions = {}): Promise<Built> {
  const nh = cs.kdf.size;
  const init = await cs.hpke.generateKeyPair();
  const sig = await cs.signature.generateKeyPair();
  const keyPackageRef = cs.randomBytes(cs.hash.size);
  const joinerSecret = cs.randomBytes(o.joinerSecretLength ?? nh);
  const psks = o.psks ?? [];
  const groupContext: GroupContext = {
    version: ProtocolVersion.mls10,
    cipherSuite: o.groupInfoSuite ?? cs.id,
    groupId: cs.randomBytes(16),
    epoch: o.epoch ?? 3n,
    treeHash: cs.randomBytes(cs.hash.size),
    confirmedTranscriptHash: cs.randomBytes(cs.hash.size),
    extensions: [],
  };
  // A wrong-length joiner secret is only sent to test rejection; derive with a right-length one.
  const nhJoiner = joinerSecret.length === nh ? joinerSecret : new Uint8Array(nh);
  const { welcomeSecret, secrets } = keyScheduleFromJoiner(
    cs,
    asJoinerSecret(nhJoiner),
    computePskSecret(cs, psks),
    encodeContext(groupContext),
  );
  const tag = computeConfirmationTag(cs, secrets.confirmationKey, groupContext.confirmedTranscriptHash);
  if (o.badTag) tag[0]! ^= 1;
  const tbs = { groupContext, extensions: [], confirmationTag: tag, signer: leafIndex(1) };
  const signature = await signWithLabel(cs, sig.privateKey, 'GroupInfoTBS', encode(groupInfoTbsCodec, tbs));
  const groupInfo: GroupInfo = { ...tbs, signature };
  const { key, nonce } = deriveWelcomeKeyNonce(cs, welcomeSecret);
  const encryptedGroupInfo = await cs.aead.seal(key, nonce, new Uint8Array(0), o.rawGroupInfo ?? encode(groupInfoCodec, groupInfo));
  const groupSecrets: GroupSecrets = { joinerSecret, psks: psks.map((p) => p.id) };
  const encryptedGroupSecrets = await encryptWithLabel(
    cs,
    init.publicKey,
    'Welcome',
    encryptedGroupInfo,
    o.rawGroupSecrets ?? encode(groupSecretsCodec, groupSecrets),
  );
  return {
    welcome: {
      cipherSuite: cs.id,
      secrets: [
        // someone else's entry first, so we must search by KeyPackageRef
        { newMember: cs.randomBytes(cs.hash.size), encryptedGroupSecrets: { kemOutput: cs.randomBytes(32), ciphertext: cs.randomBytes(48) } },
        { newMember: keyPackageRef, encryptedGroupSecrets },
      ],
      encryptedGroupInfo,
    },
    recipient: { keyPackageRef, cipherSuite: cs.id, initPrivateKey: init.privateKey },
    signerPub: sig.publicKey,
    joinerSecret,
    groupContext,
    epochAuthenticator: bytesToHex(secrets.epochAuthenticator),
  };
}

function encodeContext(c: GroupContext): Uint8Array {
  return encode(groupContextCodec, c);
}

function extPsk(cs: CipherSuite, n: number): ResolvedPsk {
  return { id: { psktype: PskType.external, pskId: Uint8Array.of(n), pskNonce: cs.randomBytes(cs.kdf.size) }, psk: cs.randomBytes(32) };
}

function lookupFrom(psks: ResolvedPsk[]) {
  return (id: PreSharedKeyId) => psks.find((p) => preSharedKeyIdEqual(p.id, id))?.psk;
}

describe.each(SUPPORTED_CIPHER_SUITES.map((s) => [s]))('welcome join, suite %i', (suite) => {
  it(`suite ${suite}: joins a Welcome with two external PSKs`, async () => {
    const cs = getCipherSuite(suite);
    const psks = [extPsk(cs, 1), extPsk(cs, 2)];
    const b = await buildWelcome(cs, { psks });
    const welcomeHex = bytesToHex(b.welcome.encryptedGroupInfo);
    const joined = await processWelcomeSecrets(cs, b.welcome, b.recipient, {
      signerPublicKey: (i) => (i === 1 ? b.signerPub : undefined),
      pskLookup: lookupFrom(psks),
    });
    expect(bytesToHex(joined.secrets.epochAuthenticator)).toBe(b.epochAuthenticator);
    expect(joined.psks.length).toBe(2);
    expect(joined.groupInfo.groupContext.epoch).toBe(b.groupContext.epoch);
    expect(bytesToHex(joined.groupContextBytes)).toBe(bytesToHex(encodeContext(b.groupContext)));
    expect(bytesToHex(joined.interimTranscriptHash)).toBe(
      bytesToHex(computeInterimTranscriptHash(cs, b.groupContext.confirmedTranscriptHash, joined.groupInfo.confirmationTag)),
    );
    expect(bytesToHex(b.welcome.encryptedGroupInfo)).toBe(welcomeHex);
  });
});

describe('welcome join rules', () => {
  const cs = getCipherSuite(1);
  const join = (b: Built, extra: Partial<Parameters<typeof processWelcomeSecrets>[3]> = {}) =>
    processWelcomeSecrets(cs, b.welcome, b.recipient, { signerPublicKey: () => b.signerPub, ...extra });

  it('V-WEL-1: Welcome cipher suite must match the KeyPackage', async () => {
    const b = await buildWelcome(cs);
    await expect(
      processWelcomeSecrets(cs, b.welcome, { ...b.recipient, cipherSuite: 3 }, { signerPublicKey: () => b.signerPub }),
    ).rejects.toThrow(/V-WEL-1/);
    await expect(join({ ...b, welcome: { ...b.welcome, cipherSuite: 2 } })).rejects.toThrow(/V-WEL-1/);
  });

  it('V-WEL-2: no secrets for our KeyPackageRef', async () => {
    const b = await buildWelcome(cs);
    const err = await join({ ...b, recipient: { ...b.recipient, keyPackageRef: cs.randomBytes(32) } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(String(err)).toMatch(/V-WEL-2/);
  });

  it('V-WEL-3: group secrets that do not decrypt under our init key', async () => {
    const b = await buildWelcome(cs);
    const other = await cs.hpke.generateKeyPair();
    const err = await join({ ...b, recipient: { ...b.recipient, initPrivateKey: other.privateKey } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).operation).toBe('V-WEL-3');
    // the HPKE context binds encrypted_group_info: swapping it breaks decryption too
    await expect(join({ ...b, welcome: { ...b.welcome, encryptedGroupInfo: b.welcome.encryptedGroupInfo.slice(1) } })).rejects.toThrow(/V-WEL-3/);
  });

  it('malformed GroupSecrets plaintext is a DecodeError', async () => {
    const b = await buildWelcome(cs, { rawGroupSecrets: Uint8Array.of(0x20, 1, 2) });
    await expect(join(b)).rejects.toBeInstanceOf(DecodeError);
  });

  it('V-WEL-4: joiner_secret must be KDF.Nh long', async () => {
    const b = await buildWelcome(cs, { joinerSecretLength: 16 });
    await expect(join(b)).rejects.toThrow(/V-WEL-4/);
    const shortPath = encode(groupSecretsCodec, { joinerSecret: cs.randomBytes(32), pathSecret: { pathSecret: cs.randomBytes(31) }, psks: [] });
    await expect(join(await buildWelcome(cs, { rawGroupSecrets: shortPath }))).rejects.toThrow(/V-WEL-4/);
  });

  it('V-WEL-5: a GroupInfo that does not decrypt under the welcome key', async () => {
    const b = await buildWelcome(cs);
    // The right joiner secret but a PSK the committer did not use changes the welcome key:
    // rebuild the group secrets claiming an extra (available) PSK.
    const psk = extPsk(cs, 9);
    const gs = encode(groupSecretsCodec, { joinerSecret: b.joinerSecret, psks: [psk.id] });
    const init = await cs.hpke.generateKeyPair();
    const egs = await encryptWithLabel(cs, init.publicKey, 'Welcome', b.welcome.encryptedGroupInfo, gs);
    const welcome: Welcome = { ...b.welcome, secrets: [{ newMember: b.recipient.keyPackageRef, encryptedGroupSecrets: egs }] };
    const err = await processWelcomeSecrets(cs, welcome, { ...b.recipient, initPrivateKey: init.privateKey }, {
      signerPublicKey: () => b.signerPub,
      pskLookup: () => psk.psk,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect(String(err)).toMatch(/V-WEL-5/);
  });

  it('malformed GroupInfo plaintext is a DecodeError', async () => {
    const b = await buildWelcome(cs, { rawGroupInfo: Uint8Array.of(0, 1, 0, 1, 9) });
    await expect(join(b)).rejects.toBeInstanceOf(DecodeError);
  });

  it('V-WEL-6: the signer leaf must exist and not be blank', async () => {
    const b = await buildWelcome(cs);
    await expect(join(b, { signerPublicKey: () => undefined })).rejects.toThrow(/V-WEL-6/);
  });

  it('V-WEL-7: the GroupInfo signature must verify', async () => {
    const b = await buildWelcome(cs);
    const other = await cs.signature.generateKeyPair();
    const err = await join(b, { signerPublicKey: () => other.publicKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect(String(err)).toMatch(/V-WEL-7/);
  });

  it('V-WEL-8: the GroupInfo suite must match the KeyPackage', async () => {
    const b = await buildWelcome(cs, { groupInfoSuite: 3 });
    await expect(join(b)).rejects.toThrow(/V-WEL-8/);
  });

  it('V-WEL-9: a reinit/branch Welcome must be for epoch 1', async () => {
    const branch: ResolvedPsk = {
      id: { psktype: PskType.resumption, usage: ResumptionPskUsage.branch, pskGroupId: Uint8Array.of(1), pskEpoch: 4n, pskNonce: cs.randomBytes(32) },
      psk: cs.randomBytes(32),
    };
    const bad = await buildWelcome(cs, { psks: [branch], epoch: 2n });
    await expect(join(bad, { pskLookup: () => branch.psk })).rejects.toThrow(/V-WEL-9/);
    const good = await buildWelcome(cs, { psks: [branch], epoch: 1n });
    const joined = await join(good, { pskLookup: () => branch.psk });
    expect(joined.resumptionUsage).toBe(ResumptionPskUsage.branch);
  });

  it('V-WEL-10: the confirmation tag must match', async () => {
    const b = await buildWelcome(cs, { badTag: true });
    const err = await join(b).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect(String(err)).toMatch(/V-WEL-10/);
  });

  it('V-PSK-7: a Welcome naming a PSK we do not hold fails', async () => {
    const b = await buildWelcome(cs, { psks: [extPsk(cs, 1)] });
    await expect(join(b)).rejects.toThrow(/V-PSK-7/);
  });

  it('V-PSK-5: at most one reinit/branch PSK in GroupSecrets', async () => {
    const res = (usage: ResumptionPskUsage): ResolvedPsk => ({
      id: { psktype: PskType.resumption, usage, pskGroupId: Uint8Array.of(1), pskEpoch: 4n, pskNonce: cs.randomBytes(32) },
      psk: cs.randomBytes(32),
    });
    const psks = [res(ResumptionPskUsage.reinit), res(ResumptionPskUsage.branch)];
    const b = await buildWelcome(cs, { psks, epoch: 1n });
    await expect(join(b, { pskLookup: () => cs.randomBytes(32) })).rejects.toThrow(/V-PSK-5/);
  });
});
