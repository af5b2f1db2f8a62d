/**
 * Official welcome vectors (RFC 9420 §12.4.3.1): find our group secrets by
 * KeyPackageRef, decrypt them and the GroupInfo, verify the GroupInfo
 * signature with `signer_pub` and its confirmation tag from the joiner secret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { decode, encode } from '../../../lib/mls/codec/codec.ts';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { welcomeCodec } from '../../../lib/mls/join/welcome.ts';
import { WireFormat, mlsMessageCodec } from '../../../lib/mls/framing/framing.ts';
import { processWelcomeSecrets, welcomeRecipientFor } from '../../../lib/mls/join/welcome-join.ts';

interface WelcomeCase {
  cipher_suite: number;
  init_priv: string;
  signer_pub: string;
  key_package: string;
  welcome: string;
}

const cases = JSON.parse(
  readFileSync(new URL('../../vectors/data/welcome.json', import.meta.url), 'utf8'),
) as WelcomeCase[];

describe('welcome vectors', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}`, async () => {
      const cs = getCipherSuite(c.cipher_suite);
      const kpMsg = decode(mlsMessageCodec, hexToBytes(c.key_package));
      const welcomeMsg = decode(mlsMessageCodec, hexToBytes(c.welcome));
      if (kpMsg.wireFormat !== WireFormat.keyPackage) throw new Error('key_package is not a KeyPackage');
      if (welcomeMsg.wireFormat !== WireFormat.welcome) throw new Error('welcome is not a Welcome');

      const recipient = welcomeRecipientFor(cs, kpMsg.keyPackage, hexToBytes(c.init_priv));
      const signerPub = hexToBytes(c.signer_pub);
      const signerIndexes: number[] = [];
      const welcomeBefore = bytesToHex(encode(welcomeCodec, welcomeMsg.welcome));

      const joined = await processWelcomeSecrets(cs, welcomeMsg.welcome, recipient, {
        signerPublicKey: (index) => {
          signerIndexes.push(index);
          return signerPub;
        },
      });

      expect(signerIndexes).toEqual([joined.groupInfo.signer]);
      expect(joined.groupInfo.groupContext.cipherSuite).toBe(c.cipher_suite);
      expect(joined.pathSecret).toBeUndefined();
      expect(joined.psks).toEqual([]);
      expect(joined.secrets.confirmationKey.length).toBe(cs.kdf.size);
      expect(joined.interimTranscriptHash.length).toBe(cs.hash.size);
      // the decoded Welcome was not mutated
      expect(bytesToHex(encode(welcomeCodec, welcomeMsg.welcome))).toBe(welcomeBefore);
    });
  });
});
