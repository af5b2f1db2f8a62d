import { describe, expect, it } from 'vitest';
import { MAX_LINK_LENGTH, safeHref, tokenize } from '../../lib/view/linkify.ts';

function links(text: string): string[] {
  return tokenize(text).flatMap((t) => (t.kind === 'link' ? [t.href] : []));
}

function joined(text: string): string {
  return tokenize(text)
    .map((t) => t.text)
    .join('');
}

describe('linkify tokenizer', () => {
  it('finds http and https links inside prose, and gives the text back unchanged', () => {
    const text = 'see https://a.example/x?y=1#z and http://b.example too';
    expect(tokenize(text)).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://a.example/x?y=1#z', href: 'https://a.example/x?y=1#z' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://b.example', href: 'http://b.example/' },
      { kind: 'text', text: ' too' },
    ]);
    expect(joined(text)).toBe(text);
  });

  it('never links other schemes', () => {
    for (const text of [
      'javascript:alert(1)',
      'javascript://example.com/%0aalert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ftp://files.example/x',
      'chrome-extension://abc/popup.html',
      'xhttps://evil.example',
    ]) {
      expect(links(text), text).toEqual([]);
      expect(joined(text)).toBe(text);
    }
  });

  it('a javascript: prefix glued to an https URL still only yields the https link', () => {
    expect(links('javascript:https://a.example/')).toEqual(['https://a.example/']);
  });

  it('stops at quotes and angle brackets, so no attribute or tag can be smuggled', () => {
    expect(links('https://a.example/"onmouseover="alert(1)')).toEqual(['https://a.example/']);
    expect(links("https://a.example/'x")).toEqual(['https://a.example/']);
    expect(links('<a href="https://a.example/x">y</a>')).toEqual(['https://a.example/x']);
    expect(links('https://a.example/<script>')).toEqual(['https://a.example/']);
    expect(links('`https://a.example/`')).toEqual(['https://a.example/']);
  });

  it('ends a link at control and bidi-format characters, so its visible text cannot be reordered', () => {
    expect(links('https://a.example/\u202Egnp.exe')).toEqual(['https://a.example/']);
    expect(links('https://a.example/\u200Bx')).toEqual(['https://a.example/']);
    expect(links('https://a.example/\u0000x')).toEqual(['https://a.example/']);
  });

  it('leaves trailing punctuation and unmatched closing brackets out of the link', () => {
    expect(links('Look: https://a.example/page.')).toEqual(['https://a.example/page']);
    expect(links('really? https://a.example/?!')).toEqual(['https://a.example/']);
    expect(links('(see https://a.example/x)')).toEqual(['https://a.example/x']);
    expect(links('https://en.wikipedia.org/wiki/Foo_(bar)')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
    expect(links('https://a.example/x,')).toEqual(['https://a.example/x']);
    const text = '(see https://a.example/x).';
    expect(joined(text)).toBe(text);
  });

  it('ignores scheme-only and hostless candidates', () => {
    expect(links('https://')).toEqual([]);
    expect(links('https://.')).toEqual([]);
    expect(links('http:// a.example')).toEqual([]);
  });

  it('is case-insensitive on the scheme and normalises the href', () => {
    expect(links('HTTPS://A.Example/Path')).toEqual(['https://a.example/Path']);
  });

  it('copes with very long input in linear time, and does not link over-long URLs', () => {
    const long = 'https://a.example/' + 'a'.repeat(MAX_LINK_LENGTH);
    expect(links(long)).toEqual([]);
    expect(safeHref(long)).toBeUndefined();
    const big = 'word https://a.example/x '.repeat(20_000) + 'h'.repeat(200_000) + ' https:'.repeat(20_000);
    const started = performance.now();
    const tokens = tokenize(big);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(tokens.filter((t) => t.kind === 'link')).toHaveLength(20_000);
    expect(joined(big)).toBe(big);
  });

  it('returns nothing for empty text and one text token for plain text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize('hello')).toEqual([{ kind: 'text', text: 'hello' }]);
  });
});
