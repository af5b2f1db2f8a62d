/**
 * The views in the person's language: the same components, rendered with the
 * German or Arabic messages, say everything in that language, and an Arabic
 * page is laid out right to left (`dir` and `lang` on the document root).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { render } from '@testing-library/svelte';
import App from '@/entrypoints/sidepanel/App.svelte';
import { applyDocumentLanguage } from '@/lib/view/document-language.ts';
import { expiresIn } from '@/lib/view/expires-in.ts';
import { fakeView } from './support/fake-background.ts';
import { conversation } from './support/fixtures.ts';
import { useLocale } from '../support/i18n.ts';
import './support/loaded-views.ts';

afterEach(() => {
  useLocale('en');
  applyDocumentLanguage();
});

describe('languages', () => {
  it('English by default: lang "en", left to right', () => {
    applyDocumentLanguage();
    expect(document.documentElement.lang).toBe('en');
    expect(document.documentElement.dir).toBe('ltr');
  });

  it('German: onboarding and the list speak German', async () => {
    useLocale('de');
    applyDocumentLanguage();
    expect(document.documentElement.lang).toBe('de');
    expect(document.documentElement.dir).toBe('ltr');
    const onboarding = render(App, { view: fakeView({ account: { state: 'none' } }).view });
    expect(onboarding.getByRole('heading', { level: 2 }).textContent).toBe('Willkommen bei MicroChat');
    expect(onboarding.getByTestId('onboarding-create').textContent?.trim()).toBe('Konto mit Passkey erstellen');
    onboarding.unmount();

    const { view } = fakeView({ account: { state: 'ready', displayName: 'Ana', lockEnabled: false }, conversations: [conversation({ unread: 2 })] });
    const list = render(App, { view });
    expect((await list.findByRole('heading', { level: 2 })).textContent).toBe('Unterhaltungen');
    expect(list.getByTestId('unread-badge').textContent).toContain('2 ungelesen');
    expect(list.getByTestId('conversation-search').getAttribute('placeholder')).toBe('Nach Namen suchen');
  });

  it('Arabic: right to left, and Arabic words around the numbers', () => {
    useLocale('ar');
    applyDocumentLanguage();
    expect(document.documentElement.lang).toBe('ar');
    expect(document.documentElement.dir).toBe('rtl');
    const now = Date.now();
    expect(expiresIn(now + 5 * 3_600_000, now)).toBe('تنتهي بعد مدة بالساعات: 5');
    expect(expiresIn(now + 3_600_000, now)).toBe('تنتهي خلال ساعة');
    const { getByRole } = render(App, { view: fakeView({ account: { state: 'none' } }).view });
    expect(getByRole('heading', { level: 2 }).textContent).toBe('مرحبًا بك في MicroChat');
  });
});
