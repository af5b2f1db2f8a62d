// sha256.ts (our one-shot SHA-256 / HMAC-SHA-256) against the FIPS 180-2 and
// RFC 4231 / RFC 5869 vectors and, for arbitrary inputs, against @noble/hashes;
// and the SHA-256 providers of hash.ts that use it.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmacSha256, hmacSha256Keyed, sha256 } from '../../lib/crypto/sha256.ts';
import { webCryptoPrimitives } from '../../lib/crypto/webcrypto.ts';
import { bytesToHex, hexToBytes } from '../../lib/bytes.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sha256', () => {
  it('FIPS 180-2 vectors', () => {
    expect(bytesToHex(sha256(ascii('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(bytesToHex(sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(bytesToHex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(bytesToHex(sha256(new Uint8Array(1_000_000).fill(0x61)))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('equals noble at every length around the block and padding boundaries', () => {
    for (let n = 0; n <= 200; n++) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(bytesToHex(sha256(data))).toBe(bytesToHex(nobleSha256(data)));
    }
  });

  it('equals noble on arbitrary inputs and leaves them untouched', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const copy = data.slice();
        expect(bytesToHex(sha256(data))).toBe(bytesToHex(nobleSha256(data)));
        expect(bytesToHex(data)).toBe(bytesToHex(copy));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hmacSha256', () => {
  // RFC 4231 §4.2-4.8 (case 5 is truncated output, not applicable).
  const cases: [string, string, string][] = [
    ['0b'.repeat(20), bytesToHex(ascii('Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [bytesToHex(ascii('Jefe')), bytesToHex(ascii('what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['aa'.repeat(20), 'dd'.repeat(50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['0102030405060708090a0b0c0d0e0f10111213141516171819', 'cd'.repeat(50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['aa'.repeat(131), bytesToHex(ascii('Test Using Larger Than Block-Size Key - Hash Key First')), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [
      'aa'.repeat(131),
      bytesToHex(ascii('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.')),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];
  it.each(cases)('RFC 4231 key %s', (key, data, mac) => {
    expect(bytesToHex(hmacSha256(hexToBytes(key), hexToBytes(data)))).toBe(mac);
  });

  it('equals noble for arbitrary keys and data; one keyed instance gives the same MAC every time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), (key, datas) => {
        const keyCopy = key.slice();
        const keyed = hmacSha256Keyed(key);
        for (const data of datas) {
          const expected = bytesToHex(hmac(nobleSha256, key, data));
          expect(bytesToHex(hmacSha256(key, data))).toBe(expected);
          expect(bytesToHex(keyed(data))).toBe(expected);
          expect(bytesToHex(keyed(data))).toBe(expected);
        }
        expect(bytesToHex(key)).toBe(bytesToHex(keyCopy));
      }),
      { numRuns: 300 },
    );
  });
});

describe("hash.ts SHA-256 providers on sha256.ts (the 'webcrypto' backend, as in browsers)", () => {
  const hash = webCryptoPrimitives().hash('SHA-256');
  const kdf = webCryptoPrimitives().kdf('SHA-256');

  it('RFC 5869 test case 1 (HKDF-SHA-256)', () => {
    const prk = kdf.extract(hexToBytes('000102030405060708090a0b0c'), hexToBytes('0b'.repeat(22)));
    expect(bytesToHex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    expect(bytesToHex(kdf.expand(prk, hexToBytes('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('RFC 5869 test case 3 (empty salt and info)', () => {
    const prk = kdf.extract(new Uint8Array(0), hexToBytes('0b'.repeat(22)));
    expect(bytesToHex(prk)).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
    expect(bytesToHex(kdf.expand(prk, new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('digest, mac, extract and expand equal noble for arbitrary inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 0, max: 255 * 32 }),
        (data, salt, prk, info, length) => {
          expect(bytesToHex(hash.digest(data))).toBe(bytesToHex(nobleSha256(data)));
          expect(bytesToHex(hash.mac(salt, data))).toBe(bytesToHex(hmac(nobleSha256, salt, data)));
          expect(bytesToHex(kdf.extract(salt, data))).toBe(bytesToHex(extract(nobleSha256, data, salt)));
          expect(bytesToHex(kdf.expand(prk, info, length))).toBe(bytesToHex(expand(nobleSha256, prk, info, length)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
