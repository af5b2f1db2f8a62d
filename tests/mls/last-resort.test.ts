/**
 * Last-resort KeyPackages (draft-ietf-mls-extensions): the mark is signed
 * inside the KeyPackage, validates as a listed extension, cannot be stripped
 * without breaking the signature, and malformed dictionaries are refused.
 */
import { describe, expect, it } from 'vitest';
import { SUPPORTED_CIPHER_SUITES, getCipherSuite } from '../../lib/crypto/suites.ts';
import { encode } from '../../lib/mls/codec/codec.ts';
import { DecodeError, ValidationError } from '../../lib/mls/errors.ts';
import { defaultCapabilities, generateIdentity, generateKeyPackage, validateKeyPackage } from '../../lib/mls/group.ts';
import { ProtocolVersion } from '../../lib/mls/framing/protocol-version.ts';
import {
  APP_DATA_DICTIONARY_EXTENSION_TYPE,
  LAST_RESORT_COMPONENT_ID,
  appDataDictionaryCodec,
  isLastResort,
  lastResortExtension,
} from '../../lib/mls/join/last-resort.ts';

const enc = new TextEncoder();

describe.each(SUPPORTED_CIPHER_SUITES.map((id) => [id]))('last-resort KeyPackages, suite %i', (suiteId) => {
  const suite = getCipherSuite(suiteId);
  const ctx = { suite, version: ProtocolVersion.mls10, groupExtensions: [], now: BigInt(Math.floor(Date.now() / 1000)) };
  const caps = defaultCapabilities(suite, { extensions: [APP_DATA_DICTIONARY_EXTENSION_TYPE] });

  it('a marked package validates and reads as last resort; a plain one does not', async () => {
    const id = await generateIdentity(suite, enc.encode('a'));
    const last = await generateKeyPackage(suite, id, { capabilities: caps, extensions: [lastResortExtension()] });
    const plain = await generateKeyPackage(suite, id, { capabilities: caps });
    await validateKeyPackage(last.keyPackage, ctx);
    await validateKeyPackage(plain.keyPackage, ctx);
    expect(isLastResort(last.keyPackage)).toBe(true);
    expect(isLastResort(plain.keyPackage)).toBe(false);
  });

  it('the mark must be listed in capabilities (V-KP-6)', async () => {
    const id = await generateIdentity(suite, enc.encode('a'));
    const kp = await generateKeyPackage(suite, id, { extensions: [lastResortExtension()] });
    await expect(validateKeyPackage(kp.keyPackage, ctx)).rejects.toMatchObject({ rule: 'V-KP-6' });
  });

  it('stripping the mark (a relay relabelling a package) breaks the signature (V-KP-3)', async () => {
    const id = await generateIdentity(suite, enc.encode('a'));
    const kp = (await generateKeyPackage(suite, id, { capabilities: caps, extensions: [lastResortExtension()] })).keyPackage;
    const stripped = { ...kp, extensions: [] };
    await expect(validateKeyPackage(stripped, ctx)).rejects.toBeInstanceOf(ValidationError);
    await expect(validateKeyPackage(stripped, ctx)).rejects.toMatchObject({ rule: 'V-KP-3' });
  });
});

describe('AppDataDictionary decoding', () => {
  const dict = (entries: { componentId: number; data: Uint8Array }[]) => ({
    extensions: [{ extensionType: APP_DATA_DICTIONARY_EXTENSION_TYPE, extensionData: encode(appDataDictionaryCodec, entries) }],
  });

  it('other components beside the mark are ignored', () => {
    expect(isLastResort(dict([{ componentId: 1, data: new Uint8Array([1]) }, { componentId: LAST_RESORT_COMPONENT_ID, data: new Uint8Array(0) }]))).toBe(true);
    expect(isLastResort(dict([{ componentId: 0x0a0a, data: new Uint8Array(0) }]))).toBe(false);
  });

  it('unsorted or repeated component ids are refused', () => {
    const z = new Uint8Array(0);
    expect(() => isLastResort(dict([{ componentId: 5, data: z }, { componentId: 4, data: z }]))).toThrow(DecodeError);
    expect(() => isLastResort(dict([{ componentId: 4, data: z }, { componentId: 4, data: z }]))).toThrow(DecodeError);
  });

  it('a mark that carries data is malformed', () => {
    expect(() => isLastResort(dict([{ componentId: LAST_RESORT_COMPONENT_ID, data: new Uint8Array([0]) }]))).toThrow(DecodeError);
  });

  it('trailing bytes after the dictionary are refused', () => {
    const bytes = encode(appDataDictionaryCodec, []);
    const ext = { extensionType: APP_DATA_DICTIONARY_EXTENSION_TYPE, extensionData: new Uint8Array([...bytes, 0]) };
    expect(() => isLastResort({ extensions: [ext] })).toThrow(DecodeError);
  });
});
