/**
 * Shared runner for the passive-client vectors (README-upstream "Passive
 * Client Scenarios"): join by Welcome (tree in the Welcome or given), check
 * the epoch authenticator, then follow every epoch: cache its proposals,
 * process its Commit, compare the epoch authenticator.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { getCipherSuite } from '../../../lib/crypto/suites.ts';
import { decode } from '../../../lib/mls/codec/codec.ts';
import { bytesEqual, bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { WireFormat, mlsMessageCodec } from '../../../lib/mls/framing/framing.ts';
import { epochAuthenticator, joinFromWelcome, processMessage, type GroupState } from '../../../lib/mls/group.ts';
import { PskType } from '../../../lib/mls/keys/psk.ts';
import { ratchetTreeCodec } from '../../../lib/mls/tree/tree-node.ts';

export interface PassiveClientCase {
  cipher_suite: number;
  external_psks: { psk_id: string; psk: string }[];
  key_package: string;
  signature_priv: string;
  encryption_priv: string;
  init_priv: string;
  welcome: string;
  ratchet_tree: string | null;
  initial_epoch_authenticator: string;
  epochs: { proposals: string[]; commit: string; epoch_authenticator: string }[];
}

export function loadCases(file: string): PassiveClientCase[] {
  return JSON.parse(readFileSync(new URL(`../../vectors/data/${file}`, import.meta.url), 'utf8')) as PassiveClientCase[];
}

export async function runPassiveClient(c: PassiveClientCase): Promise<void> {
  const cs = getCipherSuite(c.cipher_suite);
  const kpMsg = decode(mlsMessageCodec, hexToBytes(c.key_package));
  if (kpMsg.wireFormat !== WireFormat.keyPackage) throw new Error('key_package is not a KeyPackage');
  const keyPackage = kpMsg.keyPackage;
  // Some P-521 (suite 5) vectors drop a leading zero octet of a private key; restore the fixed width.
  const pad = (hex: string, size: number): Uint8Array => {
    const b = hexToBytes(hex);
    if (b.length >= size) return b;
    const out = new Uint8Array(size);
    out.set(b, size - b.length);
    return out;
  };
  const nsk = cs.hpke.privateKeySize;
  const privateKeys = {
    initPrivateKey: pad(c.init_priv, nsk),
    encryptionPrivateKey: pad(c.encryption_priv, nsk),
    signaturePrivateKey: pad(c.signature_priv, nsk),
  };
  // The private keys belong to the KeyPackage's public keys.
  expect(await cs.hpke.checkKeyPair(privateKeys.initPrivateKey, keyPackage.initKey)).toBe(true);
  expect(await cs.hpke.checkKeyPair(privateKeys.encryptionPrivateKey, keyPackage.leafNode.encryptionKey)).toBe(true);

  const psks = c.external_psks.map((p) => ({ id: hexToBytes(p.psk_id), psk: hexToBytes(p.psk) }));
  const pskLookup = (id: Parameters<NonNullable<Parameters<typeof joinFromWelcome>[3]>['pskLookup'] & {}>[0]) =>
    id.psktype === PskType.external ? psks.find((p) => bytesEqual(p.id, id.pskId))?.psk : undefined;

  let state: GroupState = await joinFromWelcome(decode(mlsMessageCodec, hexToBytes(c.welcome)), keyPackage, privateKeys, {
    pskLookup,
    ...(c.ratchet_tree === null ? {} : { ratchetTree: decode(ratchetTreeCodec, hexToBytes(c.ratchet_tree)) }),
  });
  expect(bytesToHex(epochAuthenticator(state))).toBe(c.initial_epoch_authenticator);

  for (const [i, epoch] of c.epochs.entries()) {
    for (const p of epoch.proposals) {
      const r = await processMessage(state, hexToBytes(p), { pskLookup });
      expect(r.kind).toBe('proposal');
      state = r.state;
    }
    const r = await processMessage(state, hexToBytes(epoch.commit), { pskLookup });
    expect(r.kind, `epoch ${i}`).toBe('commit');
    state = r.state;
    expect(bytesToHex(epochAuthenticator(state)), `epoch ${i}`).toBe(epoch.epoch_authenticator);
  }
}
