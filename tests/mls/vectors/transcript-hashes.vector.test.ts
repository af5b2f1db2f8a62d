/**
 * Official transcript-hashes vectors (RFC 9420 §8.2): update the interim hash
 * with a Commit's AuthenticatedContent, and check that its confirmation tag is
 * the MAC of the new confirmed transcript hash.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { decode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { ContentType, authenticatedContentCodec } from '../../../lib/mls/framing/framing.ts';
import { asSecret, verifyConfirmationTag, type ConfirmationKey } from '../../../lib/mls/keys/key-schedule.ts';
import { updateTranscriptHashes } from '../../../lib/mls/keys/transcript-hash.ts';

interface ThCase {
  cipher_suite: number;
  confirmation_key: string;
  authenticated_content: string;
  interim_transcript_hash_before: string;
  confirmed_transcript_hash_after: string;
  interim_transcript_hash_after: string;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/transcript-hashes.json', import.meta.url), 'utf8'),
) as ThCase[];

describe('transcript-hashes vectors', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}`, () => {
      const cs = getCipherSuite(c.cipher_suite);
      const ac = decode(authenticatedContentCodec, hexToBytes(c.authenticated_content));
      expect(ac.content.contentType).toBe(ContentType.commit);
      const tag = ac.auth.confirmationTag;
      expect(tag).toBeDefined();

      const hashes = updateTranscriptHashes(cs, hexToBytes(c.interim_transcript_hash_before), ac);
      expect(bytesToHex(hashes.confirmedTranscriptHash)).toBe(c.confirmed_transcript_hash_after);
      expect(bytesToHex(hashes.interimTranscriptHash)).toBe(c.interim_transcript_hash_after);

      const key = asSecret<ConfirmationKey>(hexToBytes(c.confirmation_key));
      expect(verifyConfirmationTag(cs, key, hexToBytes(c.confirmed_transcript_hash_after), tag!)).toBe(true);
      // and the tag does not verify over anything else
      expect(verifyConfirmationTag(cs, key, hexToBytes(c.interim_transcript_hash_after), tag!)).toBe(false);
    });
  });
});
