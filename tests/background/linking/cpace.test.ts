// CPace over ristretto255 (lib/background/linking/cpace.ts), pinned to the test vectors of
// draft-irtf-cfrg-cpace ("Test vector for CPace using group ristretto255 and hash SHA-512"),
// then as the two parties use it: same password → same ISK and tags that check; a different
// password, a tampered share or the identity → no common key.
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../lib/bytes.ts';
import { CpaceParty, calculateGenerator, confirmationTag, generatorString, lvCat, macKey, prependLen, tagMatches } from '../../../lib/background/linking/cpace.ts';

const enc = new TextEncoder();
const h = (s: string): Uint8Array => hexToBytes(s.replace(/\s+/g, ''));
const PRS = enc.encode('Password');
const CI = h('0b415f696e69746961746f720b425f726573706f6e646572');
const SID = h('7e4b4791d6a8ef019b936c79fb7f2c57');
const YA = h('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08');
const YB = h('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d');

describe('CPace draft vectors (ristretto255, SHA-512)', () => {
  it('prepend_len and lv_cat', () => {
    expect(bytesToHex(lvCat(enc.encode('1234'), enc.encode('5'), new Uint8Array(0), enc.encode('678')))).toBe('043132333401350003363738');
    expect(bytesToHex(prependLen(new Uint8Array(128)).subarray(0, 2))).toBe('8001');
  });

  it('generator string and generator', () => {
    expect(generatorString(PRS, CI, SID).length).toBe(170);
    expect(bytesToHex(calculateGenerator(PRS, CI, SID).toBytes())).toBe('222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56');
  });

  it('shares and the initiator/responder ISK', () => {
    const a = new CpaceParty({ prs: PRS, ci: CI, sid: SID, ad: enc.encode('ADa') }, YA);
    const b = new CpaceParty({ prs: PRS, ci: CI, sid: SID, ad: enc.encode('ADb') }, YB);
    expect(bytesToHex(a.share)).toBe('d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157');
    expect(bytesToHex(b.share)).toBe('3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258');
    const iskA = a.finish('initiator', b.share, enc.encode('ADb'))!;
    const iskB = b.finish('responder', a.share, enc.encode('ADa'))!;
    const want = 'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447';
    expect(bytesToHex(iskA)).toBe(want);
    expect(bytesToHex(iskB)).toBe(want);
  });
});

describe('CPace between two parties', () => {
  const run = (pwA: string, pwB: string) => {
    const sid = crypto.getRandomValues(new Uint8Array(16));
    const a = new CpaceParty({ prs: enc.encode(pwA), ci: CI, sid, ad: enc.encode('A') });
    const b = new CpaceParty({ prs: enc.encode(pwB), ci: CI, sid, ad: enc.encode('B') });
    return { sid, a, b, iskA: a.finish('initiator', b.share, enc.encode('B')), iskB: b.finish('responder', a.share, enc.encode('A')) };
  };

  it('agrees on the ISK, and each confirmation tag checks on the other side', () => {
    const { sid, a, b, iskA, iskB } = run('secret', 'secret');
    expect(iskA).toEqual(iskB);
    const kA = macKey(sid, iskA!);
    const kB = macKey(sid, iskB!);
    expect(tagMatches(kA, b.share, enc.encode('B'), confirmationTag(kB, b.share, enc.encode('B')))).toBe(true);
    expect(tagMatches(kB, a.share, enc.encode('A'), confirmationTag(kA, a.share, enc.encode('A')))).toBe(true);
  });

  it('a different password gives different keys, and the tag fails', () => {
    const { sid, b, iskA, iskB } = run('secret', 'secreT');
    expect(iskA).not.toEqual(iskB);
    expect(tagMatches(macKey(sid, iskA!), b.share, enc.encode('B'), confirmationTag(macKey(sid, iskB!), b.share, enc.encode('B')))).toBe(false);
  });

  it('a share that does not decode, or the identity, gives no key; a tampered AD changes the ISK', () => {
    const sid = new Uint8Array(16);
    const mk = () => new CpaceParty({ prs: PRS, ci: CI, sid, ad: new Uint8Array(0) });
    expect(mk().finish('initiator', new Uint8Array(32), new Uint8Array(0))).toBeNull();
    expect(mk().finish('initiator', new Uint8Array(32).fill(0xff), new Uint8Array(0))).toBeNull();
    expect(mk().finish('initiator', new Uint8Array(31), new Uint8Array(0))).toBeNull();
    const a = mk();
    const b = mk();
    const good = b.finish('responder', a.share, new Uint8Array(0));
    expect(a.finish('initiator', b.share, enc.encode('x'))).not.toEqual(good);
  });

  it('a party finishes once', () => {
    const a = new CpaceParty({ prs: PRS, ci: CI, sid: SID, ad: new Uint8Array(0) });
    const b = new CpaceParty({ prs: PRS, ci: CI, sid: SID, ad: new Uint8Array(0) });
    a.finish('initiator', b.share, new Uint8Array(0));
    expect(() => a.finish('initiator', b.share, new Uint8Array(0))).toThrow();
  });
});
