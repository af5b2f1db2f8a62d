// The relay's one error path and its HTTP helpers, in-process.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RelayError, ErrorCode } from '../../relay/errors.ts';
import { isAllowedOrigin, readJsonBody, toErrorResponse } from '../../relay/http.ts';
import { DEFAULT_CONFIG } from '../../relay/config.ts';
import { fromB64, toB64 } from '../../lib/bytes.ts';
import { readEncodedBytes, readId } from '../../relay/encoding.ts';

describe('relay error path', () => {
  it('turns a RelayError into its status and typed code', async () => {
    const lines: string[] = [];
    const res = toErrorResponse(new RelayError(ErrorCode.tokenSpent, 'token already spent'), (l) => lines.push(l));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'token_spent', message: 'token already spent' } });
    expect(lines).toEqual([]);
  });

  it('answers anything else with a plain 500 and logs only its kind and message', async () => {
    const lines: string[] = [];
    const res = toErrorResponse(new TypeError('boom'), (l) => lines.push(l));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(lines).toEqual(['internal error: TypeError: boom']);
  });

  it('reads bounded JSON object bodies only', async () => {
    const req = (body: string): Request => new Request('http://x/', { method: 'POST', body });
    expect(await readJsonBody(req('{"a":1}'), 100)).toEqual({ a: 1 });
    for (const bad of ['[1]', 'null', '"s"', '{', '\uFFFF']) {
      await expect(readJsonBody(req(bad), 100)).rejects.toMatchObject({ code: 'bad_request' });
    }
    await expect(readJsonBody(req(`{"a":"${'x'.repeat(200)}"}`), 100)).rejects.toMatchObject({ code: 'too_large' });
  });

  it('allows extension origins and configured origins only', () => {
    const config = { ...DEFAULT_CONFIG, origins: ['https://app.example'] };
    expect(isAllowedOrigin(config, 'chrome-extension://abcdefghijklmnopabcdefghijklmnop')).toBe(true);
    expect(isAllowedOrigin(config, 'moz-extension://0b1c2d3e-1111-2222-3333-444455556666')).toBe(true);
    expect(isAllowedOrigin(config, 'https://app.example')).toBe(true);
    expect(isAllowedOrigin(config, 'https://evil.example')).toBe(false);
    expect(isAllowedOrigin(config, 'chrome-extension://a/b')).toBe(false);
    expect(isAllowedOrigin(config, null)).toBe(false);
    expect(isAllowedOrigin({ ...config, allowAnyExtension: false }, 'chrome-extension://abc')).toBe(false);
  });

  it('accepts only canonical unpadded base64url', () => {
    expect(fromB64(toB64(new Uint8Array([1, 2, 3, 4])))).toEqual(new Uint8Array([1, 2, 3, 4]));
    for (const bad of ['AQIDBA==', 'AQ+/', 'AR', 'A', 'AQID BA']) expect(fromB64(bad), bad).toBeNull();
  });

  it('base64url round-trips and agrees with Node for any bytes; any accepted text re-encodes to itself', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const t = toB64(b);
        expect(t).toBe(Buffer.from(b).toString('base64url'));
        expect(fromB64(t)).toEqual(b);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const d = fromB64(s);
        if (d !== null) expect(toB64(d)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('readEncodedBytes keeps the text a payload came as, which is exactly its encoding (pushed on without re-encoding)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (b) => {
        const text = toB64(b);
        const read = readEncodedBytes({ payload: text }, 'payload', { max: 200 });
        expect(read.bytes).toEqual(b);
        expect(read.text).toBe(toB64(read.bytes));
      }),
      { numRuns: 500 },
    );
    // A text that would not re-encode to itself is refused, not passed on.
    for (const bad of ['AR', 'AQ==', 'AQ+/']) expect(() => readEncodedBytes({ payload: bad }, 'payload', { max: 10 }), bad).toThrow();
  });

  it('readId accepts exactly the canonical 22-character spellings of 16 bytes (checked without decoding)', () => {
    const accepts = (s: string): boolean => {
      try {
        return readId({ id: s }, 'id') === s;
      } catch {
        return false;
      }
    };
    const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const symbol = fc.constantFrom(...b64url, '+', '/', '=', '.', 'é');
    fc.assert(
      fc.property(fc.array(symbol, { minLength: 20, maxLength: 23 }), (chars) => {
        const s = chars.join('');
        expect(accepts(s), s).toBe(s.length === 22 && fromB64(s)?.length === 16);
      }),
      { numRuns: 20_000 },
    );
    // Every last symbol at the canonical length, against the decoder.
    for (const last of b64url) {
      const s = `${'A'.repeat(21)}${last}`;
      expect(accepts(s), s).toBe(fromB64(s) !== null);
    }
    expect(accepts(toB64(crypto.getRandomValues(new Uint8Array(16))))).toBe(true);
    expect(accepts(toB64(crypto.getRandomValues(new Uint8Array(17))))).toBe(false);
  });
});
