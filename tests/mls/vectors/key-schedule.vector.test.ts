/**
 * Official key-schedule vectors (RFC 9420 §8): epoch after epoch, the
 * GroupContext encoding, every derived secret, the external key pair and the
 * exporter.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import type { CipherSuiteId } from '../../../lib/crypto/provider.ts';
import { encode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { groupContextCodec } from '../../../lib/mls/group/group-context.ts';
import {
  advanceKeySchedule,
  asCommitSecret,
  asInitSecret,
  asPskSecret,
  deriveExternalKeyPair,
  mlsExporter,
  type InitSecret,
} from '../../../lib/mls/keys/key-schedule.ts';

interface Epoch {
  tree_hash: string;
  commit_secret: string;
  psk_secret: string;
  confirmed_transcript_hash: string;
  group_context: string;
  joiner_secret: string;
  welcome_secret: string;
  init_secret: string;
  sender_data_secret: string;
  encryption_secret: string;
  exporter_secret: string;
  epoch_authenticator: string;
  external_secret: string;
  confirmation_key: string;
  membership_key: string;
  resumption_psk: string;
  external_pub: string;
  exporter: { label: string; context: string; length: number; secret: string };
}
interface KsCase {
  cipher_suite: number;
  group_id: string;
  initial_init_secret: string;
  epochs: Epoch[];
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/key-schedule.json', import.meta.url), 'utf8'),
) as KsCase[];

describe('key-schedule vectors', () => {

  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i} (${c.epochs.length} epochs)`, async () => {
      const cs = getCipherSuite(c.cipher_suite as CipherSuiteId);
      let initSecret: InitSecret = asInitSecret(hexToBytes(c.initial_init_secret));
      for (const [n, e] of c.epochs.entries()) {
        const groupContext = encode(groupContextCodec, {
          version: 1,
          cipherSuite: c.cipher_suite as CipherSuiteId,
          groupId: hexToBytes(c.group_id),
          epoch: BigInt(n),
          treeHash: hexToBytes(e.tree_hash),
          confirmedTranscriptHash: hexToBytes(e.confirmed_transcript_hash),
          extensions: [],
        });
        expect(bytesToHex(groupContext), `epoch ${n} group_context`).toBe(e.group_context);

        const out = advanceKeySchedule(
          cs,
          initSecret,
          asCommitSecret(hexToBytes(e.commit_secret)),
          asPskSecret(hexToBytes(e.psk_secret)),
          groupContext,
        );
        const s = out.secrets;
        const got = {
          joiner_secret: bytesToHex(out.joinerSecret),
          welcome_secret: bytesToHex(out.welcomeSecret),
          init_secret: bytesToHex(s.initSecret),
          sender_data_secret: bytesToHex(s.senderDataSecret),
          encryption_secret: bytesToHex(s.encryptionSecret),
          exporter_secret: bytesToHex(s.exporterSecret),
          epoch_authenticator: bytesToHex(s.epochAuthenticator),
          external_secret: bytesToHex(s.externalSecret),
          confirmation_key: bytesToHex(s.confirmationKey),
          membership_key: bytesToHex(s.membershipKey),
          resumption_psk: bytesToHex(s.resumptionPsk),
        };
        const want = Object.fromEntries(Object.keys(got).map((k) => [k, e[k as keyof typeof got]]));
        expect(got, `epoch ${n}`).toEqual(want);

        const external = await deriveExternalKeyPair(cs, s.externalSecret);
        expect(bytesToHex(external.publicKey), `epoch ${n} external_pub`).toBe(e.external_pub);

        const exported = mlsExporter(
          cs,
          s.exporterSecret,
          // The vectors' label is the hex string itself, used as the label text.
          e.exporter.label,
          hexToBytes(e.exporter.context),
          e.exporter.length,
        );
        expect(bytesToHex(exported), `epoch ${n} exporter`).toBe(e.exporter.secret);

        initSecret = s.initSecret;
      }
    });
  });
});
