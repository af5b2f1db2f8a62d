/**
 * Key-schedule properties beyond the official vectors (RFC 9420 §8): the
 * joiner and member paths agree, external init round-trips, secrets are
 * branded, inputs are not mutated and the epoch secrets differ from one
 * another.
 */
import { describe, expect, it } from 'vitest';
import { SUPPORTED_CIPHER_SUITES, getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex } from '../../lib/bytes.ts';
import { CryptoError, UsageError } from '../../lib/mls/errors.ts';
import { ProtocolVersion, groupContextCodec } from '../../lib/mls/group/group-context.ts';
import {
  advanceKeySchedule,
  asCommitSecret,
  asInitSecret,
  computeConfirmationTag,
  computeMembershipTag,
  deriveExternalKeyPair,
  deriveJoinerSecret,
  externalInitReceiver,
  externalInitSender,
  keyScheduleFromJoiner,
  mlsExporter,
  randomEpochSecret,
  deriveEpochSecrets,
  verifyConfirmationTag,
  verifyMembershipTag,
  wipeEpochSecrets,
  zeroCommitSecret,
  type CommitSecret,
  type InitSecret,
  type JoinerSecret,
} from '../../lib/mls/keys/key-schedule.ts';
import { PskType, computePskSecret, zeroPskSecret } from '../../lib/mls/keys/psk.ts';

function groupContext(suite: number, epoch: bigint): Uint8Array {
  return encode(groupContextCodec, {
    version: ProtocolVersion.mls10,
    cipherSuite: suite,
    groupId: Uint8Array.of(1, 2, 3),
    epoch,
    treeHash: new Uint8Array(32).fill(7),
    confirmedTranscriptHash: new Uint8Array(32).fill(9),
    extensions: [],
  });
}

describe.each(SUPPORTED_CIPHER_SUITES.map((s) => [s]))('key schedule, suite %i', (suite) => {
  const cs = getCipherSuite(suite);
  const nh = cs.kdf.size;

  it(`suite ${suite}: a joiner with the joiner secret derives the members' epoch secrets`, () => {
    const init = asInitSecret(cs.randomBytes(nh));
    const commit = asCommitSecret(cs.randomBytes(nh));
    const psk = computePskSecret(cs, [
      { id: { psktype: PskType.external, pskId: Uint8Array.of(1), pskNonce: cs.randomBytes(nh) }, psk: cs.randomBytes(nh) },
    ]);
    const ctx = groupContext(suite, 5n);
    const [initHex, commitHex, pskHex, ctxHex] = [init, commit, psk, ctx].map(bytesToHex);

    const member = advanceKeySchedule(cs, init, commit, psk, ctx);
    const joiner = keyScheduleFromJoiner(cs, member.joinerSecret, psk, ctx);
    expect(bytesToHex(joiner.welcomeSecret)).toBe(bytesToHex(member.welcomeSecret));
    expect(Object.values(joiner.secrets).map(bytesToHex)).toEqual(Object.values(member.secrets).map(bytesToHex));

    // inputs untouched
    expect([init, commit, psk, ctx].map(bytesToHex)).toEqual([initHex, commitHex, pskHex, ctxHex]);
    // every derived secret is distinct and Nh long
    const all = [member.joinerSecret, member.welcomeSecret, ...Object.values(member.secrets)].map(bytesToHex);
    expect(new Set(all).size).toBe(all.length);
    for (const s of Object.values(member.secrets)) expect(s.length).toBe(nh);

    // a different PSK secret or GroupContext changes everything after the joiner secret
    const other = advanceKeySchedule(cs, init, commit, zeroPskSecret(cs), ctx);
    expect(bytesToHex(other.joinerSecret)).toBe(bytesToHex(member.joinerSecret));
    expect(bytesToHex(other.secrets.epochAuthenticator)).not.toBe(bytesToHex(member.secrets.epochAuthenticator));
    const nextCtx = advanceKeySchedule(cs, init, commit, psk, groupContext(suite, 6n));
    expect(bytesToHex(nextCtx.joinerSecret)).not.toBe(bytesToHex(member.joinerSecret));
  });

  it(`suite ${suite}: external init round-trips through the external key pair (§8.3)`, async () => {
    const secrets = deriveEpochSecrets(cs, randomEpochSecret(cs));
    const external = await deriveExternalKeyPair(cs, secrets.externalSecret);
    const sent = await externalInitSender(cs, external.publicKey);
    expect(sent.initSecret.length).toBe(nh);
    const received = await externalInitReceiver(cs, external.privateKey, sent.kemOutput);
    expect(bytesToHex(received)).toBe(bytesToHex(sent.initSecret));
    // a fresh sender gets a fresh secret
    const again = await externalInitSender(cs, external.publicKey);
    expect(bytesToHex(again.initSecret)).not.toBe(bytesToHex(sent.initSecret));
  });

  it(`suite ${suite}: a malformed ExternalInit kem_output is a CryptoError`, async () => {
    const external = await deriveExternalKeyPair(cs, deriveEpochSecrets(cs, randomEpochSecret(cs)).externalSecret);
    await expect(externalInitReceiver(cs, external.privateKey, Uint8Array.of(1, 2, 3))).rejects.toBeInstanceOf(CryptoError);
  });

  it(`suite ${suite}: exporter depends on label, context and length`, () => {
    const { exporterSecret } = deriveEpochSecrets(cs, randomEpochSecret(cs));
    const a = mlsExporter(cs, exporterSecret, 'a', Uint8Array.of(1), 32);
    expect(a.length).toBe(32);
    expect(bytesToHex(mlsExporter(cs, exporterSecret, 'a', Uint8Array.of(1), 32))).toBe(bytesToHex(a));
    expect(bytesToHex(mlsExporter(cs, exporterSecret, 'b', Uint8Array.of(1), 32))).not.toBe(bytesToHex(a));
    expect(bytesToHex(mlsExporter(cs, exporterSecret, 'a', Uint8Array.of(2), 32))).not.toBe(bytesToHex(a));
    expect(mlsExporter(cs, exporterSecret, 'a', Uint8Array.of(1), 77).length).toBe(77);
  });

  it(`suite ${suite}: confirmation and membership tags verify only over their input`, () => {
    const s = deriveEpochSecrets(cs, randomEpochSecret(cs));
    const cth = cs.randomBytes(cs.hash.size);
    const tag = computeConfirmationTag(cs, s.confirmationKey, cth);
    expect(verifyConfirmationTag(cs, s.confirmationKey, cth, tag)).toBe(true);
    expect(verifyConfirmationTag(cs, s.confirmationKey, cs.randomBytes(cs.hash.size), tag)).toBe(false);
    expect(verifyConfirmationTag(cs, s.confirmationKey, cth, tag.subarray(1))).toBe(false);
    const tbm = Uint8Array.of(1, 2, 3);
    const mt = computeMembershipTag(cs, s.membershipKey, tbm);
    expect(verifyMembershipTag(cs, s.membershipKey, tbm, mt)).toBe(true);
    expect(verifyMembershipTag(cs, s.membershipKey, Uint8Array.of(1, 2), mt)).toBe(false);
  });
});

describe('key schedule misuse and hygiene', () => {
  const cs = getCipherSuite(1);

  it('rejects secrets of the wrong length as misuse', () => {
    expect(() => deriveJoinerSecret(cs, asInitSecret(new Uint8Array(31)), zeroCommitSecret(cs), new Uint8Array(0))).toThrow(UsageError);
    expect(() => deriveEpochSecrets(cs, randomEpochSecret(getCipherSuite(5)))).toThrow(UsageError);
  });

  it('wipeEpochSecrets zeroes every secret', () => {
    const s = deriveEpochSecrets(cs, randomEpochSecret(cs));
    wipeEpochSecrets(s);
    for (const v of Object.values(s)) expect(v.every((b: number) => b === 0)).toBe(true);
  });

  it('branded secrets cannot be swapped (type-level)', () => {
    const init: InitSecret = asInitSecret(new Uint8Array(32));
    const commit: CommitSecret = zeroCommitSecret(cs);
    // @ts-expect-error a commit secret is not an init secret
    const wrongInit: InitSecret = commit;
    // @ts-expect-error a raw Uint8Array is not a joiner secret
    const raw: JoinerSecret = new Uint8Array(32);
    // @ts-expect-error arguments in the wrong order do not compile
    expect(() => deriveJoinerSecret(cs, commit, init, new Uint8Array(0))).not.toThrow();
    expect(wrongInit.length + raw.length).toBe(64);
  });
});
