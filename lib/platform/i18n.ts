/**
 * Every sentence MicroChat shows comes from public/_locales/<lang>/messages.json
 * (the WebExtension i18n format), through `t`. In the extension the browser
 * picks the language (its UI language, falling back to the manifest's
 * default_locale, English) and fills in the placeholders. Outside a browser
 * (the tests in Node) nothing provides `i18n.getMessage`, so the test set-up
 * installs a lookup over the same files (tests/support/i18n.ts).
 *
 * The keys are typed from the English file: a `t('…')` with a key that does
 * not exist does not compile. tests/build/i18n-keys.test.ts checks that every
 * language has every key, with the same placeholders.
 */
import type english from '../../public/_locales/en/messages.json';

export type MessageKey = keyof typeof english;
export type Substitution = string | number;
/** Finds a message and fills in `$1`…`$9`: `browser.i18n.getMessage`, or the tests' stand-in. */
export type MessageLookup = (key: string, substitutions: string[]) => string;

interface I18nLike {
  getMessage(key: string, substitutions?: string | string[]): string;
  getUILanguage?(): string;
}

let installed: MessageLookup | undefined;

/** For the tests (and nothing else): answer `t` from somewhere other than the browser. */
export function setMessageLookup(lookup: MessageLookup | undefined): void {
  installed = lookup;
}

function browserI18n(): I18nLike | undefined {
  const g = globalThis as { browser?: { i18n?: I18nLike }; chrome?: { i18n?: I18nLike } };
  return g.browser?.i18n ?? g.chrome?.i18n;
}

/** The sentence for `key`, with `substitutions` in place of its placeholders (at most 9: Chrome's limit). */
export function t(key: MessageKey, ...substitutions: Substitution[]): string {
  const subs = substitutions.map(String);
  if (installed !== undefined) return installed(key, subs);
  const i18n = browserI18n();
  if (i18n === undefined) throw new Error(`No message source for "${key}": not in an extension, and no lookup installed`);
  const text = i18n.getMessage(key, subs);
  // Chrome answers "" for a key it does not know; the key is more use to a bug report than a blank.
  return text === '' ? key : text;
}

/** The language the messages are in ("en", "de", "ar"): each messages.json says its own. */
export function messageLanguage(): string {
  return t('locale_code');
}

/** "rtl" for a right-to-left language, as its messages.json says. */
export function messageDirection(): 'ltr' | 'rtl' {
  return t('locale_dir') === 'rtl' ? 'rtl' : 'ltr';
}
