/**
 * The messages every language ships (public/_locales/<lang>/messages.json):
 * the same keys everywhere, with the same placeholders, each key used by the
 * code and each key the code asks for present. A translation that forgets a
 * key, drops a placeholder (the name or the number would vanish from the
 * sentence) or just copies the English fails here, not in front of a person.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCALE, formatMessage, locales, readMessages, type MessageEntry } from '../support/i18n.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['lib', 'components', 'entrypoints'];
const SOURCE = /\.(ts|svelte)$/;
const SOURCE_FILES = ['wxt.config.ts'];

/**
 * Keys whose translation may read exactly as the English: the product's name, and lines that are only placeholders
 * or a code (the language and direction markers differ anyway). Every other message must really be translated.
 */
const SAME_IN_EVERY_LANGUAGE = new Set(['ext_name', 'locale_dir', 'common_version', 'list_preview', 'bg_notify_line', 'conv_members_label']);
/** German spells some words as English does. */
const SAME_IN_GERMAN = new Set(['common_offline', 'connection_online', 'list_name_label', 'conv_details_short', 'lock_passphrase', 'settings_relay', 'members_admin', 'relay_status_line']);

function sourceFiles(): string[] {
  const found = SOURCE_DIRS.flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((name) => SOURCE.test(name))
      .map((name) => path.join(dir, name)),
  );
  return [...found, ...SOURCE_FILES];
}

const sources = new Map(sourceFiles().map((file) => [file, readFileSync(path.join(ROOT, file), 'utf8')]));
const english = readMessages(DEFAULT_LOCALE);
const keys = Object.keys(english);

/** Placeholder name -> its content ($1...), as the browser reads it (names are case-insensitive). */
function placeholders(entry: MessageEntry): Map<string, string> {
  return new Map(Object.entries(entry.placeholders ?? {}).map(([name, p]) => [name.toLowerCase(), p.content]));
}
function usedPlaceholders(entry: MessageEntry): Set<string> {
  return new Set([...entry.message.matchAll(/\$([A-Za-z0-9_@]+)\$/g)].map((m) => m[1]!.toLowerCase()));
}

describe('i18n messages', () => {
  it('ships English, German and Arabic, English being the manifest default', () => {
    expect(locales()).toEqual(['ar', 'de', 'en']);
    expect(sources.get('wxt.config.ts')).toContain("default_locale: 'en'");
  });

  it('has a well-formed English file: keys the browsers accept, no empty message, at most 9 substitutions', () => {
    expect(keys.length).toBeGreaterThan(100);
    for (const [key, entry] of Object.entries(english)) {
      expect(key).toMatch(/^[a-z0-9_]+$/);
      expect(entry.message.trim(), key).not.toBe('');
      for (const content of placeholders(entry).values()) expect(content, key).toMatch(/^\$[1-9]$/);
    }
  });

  for (const locale of locales()) {
    describe(locale, () => {
      const messages = readMessages(locale);

      it('has every key, and no key English lacks', () => {
        expect(Object.keys(messages).filter((k) => !(k in english))).toEqual([]);
        expect(keys.filter((k) => !(k in messages))).toEqual([]);
      });

      it('keeps every placeholder with the same number, uses each one it declares, and declares each one it uses', () => {
        const problems: string[] = [];
        for (const key of keys) {
          const entry = messages[key];
          if (entry === undefined) continue;
          const want = placeholders(english[key]!);
          const got = placeholders(entry);
          const used = usedPlaceholders(entry);
          // A "_one" form may say "one" in words instead of the number (Arabic does).
          const mayDrop = key.endsWith('_one');
          for (const [name, content] of want) {
            if (got.get(name) !== content && !(mayDrop && !got.has(name))) problems.push(`${key}: placeholder ${name} should be ${content}`);
            if (got.has(name) && !used.has(name) && !mayDrop) problems.push(`${key}: declares $${name.toUpperCase()}$ but does not use it`);
          }
          for (const name of got.keys()) if (!want.has(name)) problems.push(`${key}: placeholder ${name} is not in English`);
          for (const name of used) if (!got.has(name)) problems.push(`${key}: uses $${name.toUpperCase()}$ without declaring it`);
          if (entry.message.trim() === '') problems.push(`${key}: empty`);
        }
        expect(problems).toEqual([]);
      });

      it('names its own language and direction', () => {
        expect(messages.locale_code?.message).toBe(locale);
        expect(messages.locale_dir?.message).toBe(locale === 'ar' ? 'rtl' : 'ltr');
      });

      if (locale !== DEFAULT_LOCALE) {
        it('is translated, not an English copy', () => {
          const same = keys.filter(
            (k) => messages[k]?.message === english[k]!.message && !SAME_IN_EVERY_LANGUAGE.has(k) && !(locale === 'de' && SAME_IN_GERMAN.has(k)),
          );
          expect(same).toEqual([]);
        });
      }
    });
  }

  it('uses every key somewhere in the code', () => {
    const all = [...sources.values()].join('\n');
    const unused = keys.filter((k) => !all.includes(`'${k}'`) && !all.includes(`__MSG_${k}__`));
    expect(unused).toEqual([]);
  });

  it('has every key the code asks for: t(…) calls and the manifest’s __MSG_…__', () => {
    const asked = new Set<string>();
    for (const text of sources.values()) {
      // The first argument of each t(...): a key, or a choice between keys ('a' : 'b').
      for (const call of text.matchAll(/\bt\(\s*([^,)]+)/g)) for (const key of call[1]!.matchAll(/'([a-z0-9_]+)'/g)) asked.add(key[1]!);
      for (const m of text.matchAll(/__MSG_([A-Za-z0-9_@]+)__/g)) asked.add(m[1]!);
    }
    expect(asked.size).toBeGreaterThan(100);
    expect([...asked].filter((k) => !(k in english))).toEqual([]);
  });

  it('fills placeholders as the browsers do: named ones, their $n content, and $$ for a dollar sign', () => {
    const entry: MessageEntry = { message: '$WHO$ paid $$$AMOUNT$ to $WHO$', placeholders: { who: { content: '$1' }, AMOUNT: { content: '$2' } } };
    expect(formatMessage(entry, ['Ana', '5'])).toBe('Ana paid $5 to Ana');
    expect(formatMessage({ message: 'Hi $1' }, ['Bo'])).toBe('Hi Bo');
    // A substitution that itself contains "$1" is not substituted again.
    expect(formatMessage(entry, ['$2', '7'])).toBe('$2 paid $7 to $2');
  });
});
