/**
 * Languages (issue 21), in the real built extension: Chromium started with
 * --lang=de / --lang=ar (and LANGUAGE, which is what Chromium on Linux reads) and Firefox ESR with intl.locale.requested, each
 * against a real relay. For every browser and language: the browser really is
 * in that language (its UI language says so), the side panel says `lang`
 * and, for Arabic, `dir="rtl"`; onboarding, the list and a conversation
 * (with the background's own system message, in that language), and the
 * members, invite and settings dialogs are saved as
 * artifacts/e2e/languages/<browser>-<lang>-<screen>.png.
 *
 * The browsers need their language packs (Debian: chromium-l10n,
 * firefox-esr-l10n-de, firefox-esr-l10n-ar); without one a browser falls back
 * to English, and the UI-language check fails and says so.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, onboard, openBrowser, openFirefoxBrowser, send, STEP_TIMEOUT, type ChatUser, type UserBrowser } from '../support/chat-driver.ts';
import { ARTIFACTS_DIR, snapshotExtension } from '../support/extension.ts';
import { snapshotFirefoxExtension } from '../support/firefox.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { formatMessage, readMessages } from '../support/i18n.ts';

const SHOTS = path.join(ARTIFACTS_DIR, 'languages');
const LANGUAGES = ['de', 'ar'] as const;
type Language = (typeof LANGUAGES)[number];

/** A message as the extension shows it in `lang`, from the files it ships. */
function says(lang: Language, key: string, ...subs: string[]): string {
  const entry = readMessages(lang)[key];
  if (entry === undefined) throw new Error(`no message ${key}`);
  return formatMessage(entry, subs);
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // Let fonts and layout settle (the Arabic glyphs come from a system font).
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** What the page tells of its language: the browser's UI language and the document root's lang and dir. */
async function pageLanguage(page: Page): Promise<{ ui: string; lang: string; dir: string }> {
  return page.evaluate(() => {
    const g = globalThis as unknown as { browser?: { i18n: { getUILanguage(): string } }; chrome?: { i18n: { getUILanguage(): string } } };
    const i18n = (g.browser ?? g.chrome)!.i18n;
    return { ui: i18n.getUILanguage(), lang: document.documentElement.lang, dir: document.documentElement.dir };
  });
}

/** Onboarding, the empty list, and a conversation with a system message and one of ours; a screenshot of each. */
async function tour(user: ChatUser<UserBrowser>, relayUrl: string, browser: string, lang: Language): Promise<void> {
  const { page } = user;
  await page.waitForSelector('[data-testid="onboarding"]', { timeout: STEP_TIMEOUT });
  const seen = await pageLanguage(page);
  expect(seen.ui.toLowerCase().startsWith(lang), `${browser}'s UI language is ${seen.ui}: is its ${lang} language pack installed?`).toBe(true);
  expect(seen.lang).toBe(lang);
  expect(seen.dir).toBe(lang === 'ar' ? 'rtl' : 'ltr');
  expect(await page.$eval('#welcome-title', (el) => el.textContent)).toBe(says(lang, 'onboarding_title'));
  await shot(page, `${browser}-${lang}-onboarding`);

  await onboard(user, relayUrl);
  await page.waitForSelector('[data-testid="conversations-empty"]', { timeout: STEP_TIMEOUT });
  expect(await page.$eval('#conversations-title', (el) => el.textContent)).toBe(says(lang, 'list_title'));
  await shot(page, `${browser}-${lang}-list`);

  const name = lang === 'ar' ? 'رحلة نهاية الأسبوع' : 'Wochenendausflug';
  await createConversation(user, name);
  // The background's system message, in the browser's language.
  await page.waitForFunction(
    (text: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"]')].some((m) => m.textContent?.includes(text)),
    { timeout: STEP_TIMEOUT },
    says(lang, 'bg_created', name),
  );
  await send(user, lang === 'ar' ? 'مرحبًا بالجميع! نلتقي يوم السبت في الساعة 9.' : 'Hallo zusammen! Wir treffen uns am Samstag um 9 Uhr.');
  expect(await page.$eval('[data-testid="composer"]', (el) => el.getAttribute('placeholder'))).toBe(says(lang, 'composer_placeholder'));
  if (lang === 'ar') {
    // Mirrored: our own bubble sits at the left edge in right-to-left, the back arrow points right.
    const bubble = await page.$eval('[data-testid="message"][data-self="true"] .bubble', (el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: document.documentElement.clientWidth - r.right };
    });
    expect(bubble.left).toBeLessThan(bubble.right);
  }
  await shot(page, `${browser}-${lang}-conversation`);

  // The dialogs: members (with the group's safety code), an invite code, and settings. Codes read left to right in
  // every language, so two people compare them in the same order.
  await dialog(page, 'members-button', 'members-dialog', `${browser}-${lang}-members`, async () => {
    expect(await page.$eval('[data-testid="safety-code"]', (el) => getComputedStyle(el).direction)).toBe('ltr');
  });
  await page.click('[data-testid="invite-button"]');
  await page.waitForSelector('[data-testid="invite-dialog"]', { timeout: STEP_TIMEOUT });
  await page.click('[data-testid="invite-create"]');
  await page.waitForSelector('[data-testid="invite-result"]', { timeout: STEP_TIMEOUT });
  await shot(page, `${browser}-${lang}-invite`);
  await closeDialog(page, 'invite-dialog');
  await dialog(page, 'settings-button', 'settings-dialog', `${browser}-${lang}-settings`);
}

async function closeDialog(page: Page, testid: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.waitForSelector(`[data-testid="${testid}"]`, { hidden: true, timeout: STEP_TIMEOUT });
}

/** Open a dialog with its button, check its close button sits at the inline end, screenshot it, close it. */
async function dialog(page: Page, button: string, testid: string, name: string, check?: () => Promise<void>): Promise<void> {
  await page.click(`[data-testid="${button}"]`);
  const box = await page.waitForSelector(`[data-testid="${testid}"]`, { timeout: STEP_TIMEOUT });
  const rtl = (await page.evaluate(() => document.documentElement.dir)) === 'rtl';
  const closeAtEnd = await box!.evaluate((el, inRtl) => {
    const d = el.getBoundingClientRect();
    const c = el.querySelector('header .close')!.getBoundingClientRect();
    return inRtl ? c.left - d.left < d.right - c.right : d.right - c.right < c.left - d.left;
  }, rtl);
  expect(closeAtEnd, `${name}: the close button is at the end of the header`).toBe(true);
  await check?.();
  await shot(page, name);
  await closeDialog(page, testid);
}

describe('languages: German and Arabic (right to left) in Chromium and Firefox', () => {
  let chromeBuild: { dir: string; id: string };
  let firefoxBuild: string;
  let relay: RelayProcess;
  const users: ChatUser<UserBrowser>[] = [];

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    chromeBuild = snapshotExtension();
    firefoxBuild = snapshotFirefoxExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${chromeBuild.id},chrome-extension://${chromeBuild.id}`] });
    // The build ships every language, the manifest names itself through them.
    const manifest = JSON.parse(readFileSync(path.join(chromeBuild.dir, 'manifest.json'), 'utf8')) as { name: string; default_locale: string };
    expect(manifest).toMatchObject({ name: '__MSG_ext_name__', default_locale: 'en' });
    for (const lang of ['en', ...LANGUAGES]) expect(readFileSync(path.join(chromeBuild.dir, '_locales', lang, 'messages.json'), 'utf8')).toContain('"locale_code"');
  });

  afterAll(async () => {
    for (const u of users) await u.ext.close();
    await relay?.stop();
    for (const dir of [...users.map((u) => u.profileDir), chromeBuild?.dir, firefoxBuild]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const lang of LANGUAGES) {
    it(`Chromium in ${lang}`, async () => {
      const user = await openBrowser(lang === 'ar' ? 'سلمى' : 'Jörg', { extensionDir: chromeBuild.dir, prf: false, args: [`--lang=${lang}`], env: { LANGUAGE: lang, LANG: `${lang}.UTF-8` } });
      users.push(user);
      await tour(user, relay.url, 'chromium', lang);
    });

    it(`Firefox in ${lang}`, async () => {
      const user = await openFirefoxBrowser(lang === 'ar' ? 'كريم' : 'Anke', { extensionDir: firefoxBuild, prefs: { 'intl.locale.requested': lang } });
      users.push(user);
      await tour(user, relay.url, 'firefox', lang);
    });
  }
});
