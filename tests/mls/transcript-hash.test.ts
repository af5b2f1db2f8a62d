/** Transcript-hash rules and properties (RFC 9420 §8.2) beyond the official vectors. */
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { bytesToHex, concatBytes } from '../../lib/bytes.ts';
import {
  ContentType,
  SenderType,
  WireFormat,
  authenticatedContentCodec,
  type AuthenticatedContent,
} from '../../lib/mls/framing/framing.ts';
import { leafIndex } from '../../lib/mls/tree/tree-math.ts';
import {
  computeConfirmedTranscriptHash,
  encodeConfirmedTranscriptHashInput,
  updateTranscriptHashes,
} from '../../lib/mls/keys/transcript-hash.ts';

const cs = getCipherSuite(1);

const commit: AuthenticatedContent = {
  wireFormat: WireFormat.publicMessage,
  content: {
    groupId: Uint8Array.of(1, 2),
    epoch: 4n,
    sender: { senderType: SenderType.member, leafIndex: leafIndex(3) },
    authenticatedData: new Uint8Array(0),
    contentType: ContentType.commit,
    commit: { proposals: [] },
  },
  auth: { signature: Uint8Array.of(5, 5, 5), confirmationTag: Uint8Array.of(6, 6) },
};

describe('transcript hashes', () => {
  it('ConfirmedTranscriptHashInput is AuthenticatedContent without the confirmation tag', () => {
    const full = encode(authenticatedContentCodec, commit);
    const input = encodeConfirmedTranscriptHashInput(commit.wireFormat, commit.content, commit.auth.signature);
    // the tag is the trailing opaque<V>: 1-byte length + 2 bytes
    expect(bytesToHex(input)).toBe(bytesToHex(full.subarray(0, full.length - 3)));
    const interim = Uint8Array.of(9, 9);
    expect(bytesToHex(computeConfirmedTranscriptHash(cs, interim, commit))).toBe(
      bytesToHex(cs.hash.digest(concatBytes(interim, input))),
    );
  });

  it('epoch 0 starts from the empty interim hash; each commit chains', () => {
    const h1 = updateTranscriptHashes(cs, new Uint8Array(0), commit);
    const h2 = updateTranscriptHashes(cs, h1.interimTranscriptHash, commit);
    expect(bytesToHex(h2.confirmedTranscriptHash)).not.toBe(bytesToHex(h1.confirmedTranscriptHash));
    const otherTag = { ...commit, auth: { ...commit.auth, confirmationTag: Uint8Array.of(7) } };
    const h1b = updateTranscriptHashes(cs, new Uint8Array(0), otherTag);
    // the confirmation tag is excluded from the confirmed hash, included in the interim
    expect(bytesToHex(h1b.confirmedTranscriptHash)).toBe(bytesToHex(h1.confirmedTranscriptHash));
    expect(bytesToHex(h1b.interimTranscriptHash)).not.toBe(bytesToHex(h1.interimTranscriptHash));
  });

  it('V-TH-1: only a Commit enters the transcript', () => {
    const proposal: AuthenticatedContent = {
      ...commit,
      content: { ...commit.content, contentType: ContentType.application, applicationData: Uint8Array.of(1) },
      auth: { signature: commit.auth.signature },
    };
    expect(() => encodeConfirmedTranscriptHashInput(proposal.wireFormat, proposal.content, proposal.auth.signature)).toThrow(/V-TH-1/);
  });

  it('V-TH-2: a Commit without a confirmation tag is rejected', () => {
    const noTag: AuthenticatedContent = { ...commit, auth: { signature: commit.auth.signature } };
    expect(() => updateTranscriptHashes(cs, new Uint8Array(0), noTag)).toThrow(/V-TH-2/);
  });
});
