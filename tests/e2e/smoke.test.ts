/**
 * Foundation smoke test: the built extension in real Chromium renders, in its
 * side panel, state that came from the background, and the background reaches
 * a real relay process's /healthz.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkManifest, type ManifestLike } from '../../build/manifest-policy.ts';
import { EXTENSION_DIR, launchWithExtension, screenshot, type ExtensionBrowser } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

describe('extension smoke', () => {
  let relay: RelayProcess;
  let ext: ExtensionBrowser;

  beforeAll(async () => {
    relay = await startRelay();
    ext = await launchWithExtension();
  });

  afterAll(async () => {
    await ext?.close();
    await relay?.stop();
  });

  it('ships a manifest that keeps our policy', () => {
    const manifest = JSON.parse(readFileSync(path.join(EXTENSION_DIR, 'manifest.json'), 'utf8')) as ManifestLike;
    expect(checkManifest(manifest)).toEqual([]);
  });

  it('loads the background service worker', async () => {
    const worker = await ext.worker();
    expect(worker.url()).toBe(`chrome-extension://${ext.extensionId}/background.js`);
  });

  it('has a virtual passkey authenticator available to extension pages', async () => {
    const page = await ext.openPage('sidepanel.html');
    const { authenticatorId, session } = await ext.addVirtualAuthenticator(page);
    expect(authenticatorId).toMatch(/\S+/);
    const { credentials } = await session.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toEqual([]);
    await page.close();
  });

  it('side panel shows the background state and the relay health it fetched', async () => {
    const page = await ext.openPage('sidepanel.html');
    // The background publishes its state; the view renders it.
    await page.waitForSelector('[data-testid="relay-status"]');
    await screenshot(page, 'smoke-01-first-open');

    // Point the background at the real relay through the settings form.
    await page.click('[data-testid="settings-button"]');
    const input = await page.waitForSelector('[data-testid="settings-dialog"] #relay-url');
    await input!.click({ count: 3 });
    await input!.type(relay.url);
    await page.click('[data-testid="settings-dialog"] form button[type="submit"]');

    const status = '[data-testid="settings-dialog"] [data-testid="relay-status"]';
    await page.waitForSelector(`${status}[data-state="reachable"]`, { timeout: 15_000 });
    const text = await page.$eval(status, (el) => el.textContent ?? '');
    expect(text).toContain('Connected');
    expect(text).toContain(new URL(relay.url).host);
    await screenshot(page, 'smoke-02-relay-connected');

    // The state came from the background, not the page: a fresh page shows it too.
    const second = await ext.openPage('sidepanel.html');
    await second.waitForSelector('[data-testid="relay-status"][data-state="reachable"]', { timeout: 15_000 });
    await second.close();

    // And the relay going away is reported, not hidden.
    await relay.stop();
    await page.click(`${status} button`);
    await page.waitForSelector(`${status}[data-state="unreachable"]`, { timeout: 15_000 });
    await screenshot(page, 'smoke-03-relay-unreachable');
    await page.close();
  });

  it('rejects an insecure relay URL with a clear error', async () => {
    const page = await ext.openPage('sidepanel.html');
    await page.waitForSelector('[data-testid="relay-status"]');
    await page.click('[data-testid="settings-button"]');
    const input = await page.waitForSelector('[data-testid="settings-dialog"] #relay-url');
    await input!.click({ count: 3 });
    await input!.type('http://relay.example.org');
    await page.click('[data-testid="settings-dialog"] form button[type="submit"]');
    const alert = await page.waitForSelector('[data-testid="settings-dialog"] [role="alert"]');
    expect(await alert!.evaluate((el) => el.textContent)).toContain('https://');
    // What the person typed stays, so they can fix it.
    expect(await page.$eval('#relay-url', (el) => (el as HTMLInputElement).value)).toBe('http://relay.example.org');
    await screenshot(page, 'smoke-04-insecure-url-rejected');
    await page.close();
  });
});
