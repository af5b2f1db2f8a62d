/**
 * E2E harness for Firefox: launches Debian's firefox-esr through puppeteer's
 * WebDriver BiDi, installs the built Firefox extension as a temporary add-on
 * with a pinned moz-extension UUID, and reaches into the browser's privileged
 * (chrome) scope for what WebDriver BiDi has no command for yet: a virtual
 * passkey authenticator, and the event page's state. Real browser, real
 * extension; nothing mocked.
 *
 * What Firefox needs here, found by trying:
 *  - `--remote-allow-system-access`: without it Firefox refuses both the
 *    navigation to moz-extension pages and the chrome-scope evaluation.
 *  - `extensions.webextensions.uuids`: pins the add-on's UUID, so the page URLs
 *    are known and the same profile finds its IndexedDB again after a restart.
 *  - `security.webauth.webauthn_enable_softtoken`: routes WebAuthn to virtual
 *    authenticators (nsIWebAuthnService.addVirtualAuthenticator, the same call
 *    Marionette's WebAuthn commands make). Firefox's virtual authenticator
 *    evaluates PRF on assertions, not at creation.
 *  - BiDi reports no navigation events for moz-extension pages, so pages are
 *    navigated with `wait: "none"` and then polled until they have loaded.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { GECKO_ID } from '../../build/manifest-policy.ts';
import { ROOT } from './extension.ts';

export const FIREFOX_EXTENSION_DIR = path.join(ROOT, '.output', 'firefox-mv3');
/** The moz-extension UUID every test profile pins for MicroChat. */
export const FIREFOX_EXTENSION_UUID = '3f0c2a8e-6b1d-4c57-9e2a-7d4b1c0e5f96';

/** Copy the Firefox build to a private folder, so a rebuild of .output/ mid-run does not change the add-on under test. */
export function snapshotFirefoxExtension(): string {
  if (!existsSync(path.join(FIREFOX_EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`Firefox extension not built: ${FIREFOX_EXTENSION_DIR} (run npm run build)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'microchat-firefox-extension-'));
  cpSync(FIREFOX_EXTENSION_DIR, dir, { recursive: true });
  return dir;
}

export function firefoxPath(): string {
  const candidates = [process.env.FIREFOX_EXECUTABLE_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'];
  const found = candidates.find((p): p is string => typeof p === 'string' && p.length > 0 && existsSync(p));
  if (!found) throw new Error("Firefox not found: install Debian's firefox-esr (apt-get install -y firefox-esr) or set FIREFOX_EXECUTABLE_PATH");
  return found;
}

export interface FirefoxLaunchOptions {
  /** An unpacked build (default .output/firefox-mv3), or a store zip to install as it is (`.zip`). */
  extensionDir?: string;
  /** Reuse a profile (a user's browser restarting); a temp one otherwise. */
  userDataDir?: string;
  keepProfile?: boolean;
  /** extensions.background.idle.timeout: how long an idle event page lives (Firefox's default is 30 s). */
  backgroundIdleTimeoutMs?: number;
  /** More preferences, e.g. { 'intl.locale.requested': 'de' } for the browser's UI language. */
  prefs?: Record<string, string | number | boolean>;
}

/**
 * A passkey held by a virtual authenticator, private key included, as
 * nsIWebAuthnService reports it. Moving it into the authenticator of a
 * restarted browser stands for a platform authenticator that outlives the
 * browser, as real ones do; its PRF outputs stay the same.
 */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  privateKey: string;
  userHandle: string;
  signCount: number;
}

/** The event page's lifecycle state as Firefox's extension framework tracks it. */
export type BackgroundState = 'starting' | 'running' | 'suspending' | 'stopped';

export interface FirefoxExtensionBrowser {
  browser: Browser;
  /** The pinned moz-extension UUID (the host of the extension's pages). */
  extensionId: string;
  userDataDir: string;
  /** Open an extension page (e.g. 'sidepanel.html') in a new tab and wait until it has loaded. */
  openPage(file: string): Promise<Page>;
  /** Reload an extension page and wait until it has loaded again. */
  reload(page: Page): Promise<void>;
  /** Add a CTAP2.1 internal authenticator with resident keys and user verification (PRF included). */
  addVirtualAuthenticator(): Promise<{ authenticatorId: string }>;
  exportCredentials(authenticatorId: string): Promise<VirtualCredential[]>;
  importCredentials(authenticatorId: string, credentials: VirtualCredential[]): Promise<void>;
  /** Whether Firefox's sidebar is open, and the extension page it shows. */
  sidebar(): Promise<{ open: boolean; url: string | null }>;
  closeSidebar(): Promise<void>;
  backgroundState(): Promise<BackgroundState>;
  /** How many times Firefox has suspended the event page since launch (idle timeout or suspendBackground). */
  suspensions(): Promise<number>;
  /** Suspend the event page now, as the idle timeout would (its memory, keys included, is gone). */
  suspendBackground(): Promise<void>;
  close(): Promise<void>;
}

interface BidiConnection {
  send(method: string, params: Record<string, unknown>): Promise<{ result: Record<string, unknown> }>;
}

function connectionOf(browser: Browser): BidiConnection {
  const connection = (browser as unknown as { connection?: BidiConnection }).connection;
  if (connection === undefined || typeof connection.send !== 'function') throw new Error('not a WebDriver BiDi browser');
  return connection;
}

function contextOf(page: Page): string {
  const id = (page.mainFrame() as unknown as { _id?: unknown })._id;
  if (typeof id !== 'string') throw new Error('page has no BiDi browsing context id');
  return id;
}

/** Evaluate an expression in the browser's privileged scope (needs --remote-allow-system-access). */
/** The browser window's privileged browsing context, looked up once per connection (the window lives as long as the browser). */
const chromeContexts = new WeakMap<BidiConnection, Promise<string>>();

function chromeContext(connection: BidiConnection): Promise<string> {
  let found = chromeContexts.get(connection);
  if (found === undefined) {
    found = connection.send('browsingContext.getTree', { 'moz:scope': 'chrome' }).then((tree) => {
      const context = (tree.result.contexts as { context: string }[])[0]?.context;
      if (context === undefined) throw new Error('no chrome browsing context');
      return context;
    });
    chromeContexts.set(connection, found);
  }
  return found;
}

async function chromeEval(connection: BidiConnection, expression: string): Promise<unknown> {
  const context = await chromeContext(connection);
  const r = await connection.send('script.evaluate', { expression, target: { context }, awaitPromise: true });
  const out = r.result as { type: string; result?: { type: string; value?: unknown }; exceptionDetails?: { text?: string } };
  if (out.type !== 'success') throw new Error(`chrome-scope evaluation failed: ${out.exceptionDetails?.text ?? 'unknown error'}`);
  return out.result?.value;
}

const WEBAUTHN = 'Cc["@mozilla.org/webauthn/service;1"].getService(Ci.nsIWebAuthnService)';

const EXTENSION_OF = (id: string): string =>
  `ChromeUtils.importESModule("resource://gre/modules/ExtensionParent.sys.mjs").ExtensionParent.GlobalManager.getExtension(${JSON.stringify(id)})`;

async function waitLoaded(page: Page, url: string, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction((u: string) => location.href === u && document.readyState === 'complete', { timeout: timeoutMs, polling: 100 }, url);
}

export async function launchFirefoxWithExtension(options: FirefoxLaunchOptions = {}): Promise<FirefoxExtensionBrowser> {
  const extensionDir = options.extensionDir ?? FIREFOX_EXTENSION_DIR;
  const archive = extensionDir.endsWith('.zip');
  if (archive ? !existsSync(extensionDir) : !existsSync(path.join(extensionDir, 'manifest.json'))) {
    throw new Error(`Firefox extension not built: ${extensionDir} (run npm run build)`);
  }
  const userDataDir = options.userDataDir ?? mkdtempSync(path.join(tmpdir(), 'microchat-firefox-'));
  mkdirSync(userDataDir, { recursive: true });
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath(),
    headless: true,
    userDataDir,
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: FIREFOX_EXTENSION_UUID }),
      'security.webauth.webauthn_enable_softtoken': true,
      'security.webauth.webauthn_enable_usbtoken': false,
      ...(options.backgroundIdleTimeoutMs === undefined ? {} : { 'extensions.background.idle.timeout': options.backgroundIdleTimeoutMs }),
      ...options.prefs,
    },
  });
  const connection = connectionOf(browser);
  const install = await connection.send('webExtension.install', { extensionData: { type: archive ? 'archivePath' : 'path', path: extensionDir } });
  const installed = install.result.extension;
  if (installed !== GECKO_ID) throw new Error(`the add-on installed as ${String(installed)}, not under its pinned id ${GECKO_ID}`);
  // Count suspensions from the framework's own event, so a test can tell a kept-alive page from a restarted one.
  await chromeEval(
    connection,
    `(() => { window.__microchatSuspensions = 0; ${EXTENSION_OF(GECKO_ID)}.on('background-script-suspend', () => { window.__microchatSuspensions++; }); return true; })()`,
  );

  const pageUrl = (file: string): string => `moz-extension://${FIREFOX_EXTENSION_UUID}/${file}`;

  return {
    browser,
    extensionId: FIREFOX_EXTENSION_UUID,
    userDataDir,
    async openPage(file) {
      const page = await browser.newPage();
      await page.setViewport({ width: 420, height: 720 });
      await connection.send('browsingContext.navigate', { context: contextOf(page), url: pageUrl(file), wait: 'none' });
      await waitLoaded(page, pageUrl(file));
      return page;
    },
    async reload(page) {
      const url = await page.evaluate(() => location.href);
      await page.evaluate(() => {
        (window as unknown as { __beforeReload?: boolean }).__beforeReload = true;
      });
      await connection.send('browsingContext.reload', { context: contextOf(page), wait: 'none' });
      await page.waitForFunction(() => !(window as unknown as { __beforeReload?: boolean }).__beforeReload, { timeout: 30_000, polling: 100 });
      await waitLoaded(page, url);
    },
    async addVirtualAuthenticator() {
      const authenticatorId = await chromeEval(connection, `${WEBAUTHN}.addVirtualAuthenticator("ctap2_1", "internal", true, true, true, true)`);
      if (typeof authenticatorId !== 'string') throw new Error('no virtual authenticator');
      return { authenticatorId };
    },
    async exportCredentials(authenticatorId) {
      const json = await chromeEval(
        connection,
        `JSON.stringify(${WEBAUTHN}.getCredentials(${JSON.stringify(authenticatorId)}).map((c) => ({ credentialId: c.credentialId, isResidentCredential: c.isResidentCredential, rpId: c.rpId, privateKey: c.privateKey, userHandle: c.userHandle, signCount: c.signCount })))`,
      );
      if (typeof json !== 'string') throw new Error('no credentials');
      return JSON.parse(json) as VirtualCredential[];
    },
    async importCredentials(authenticatorId, credentials) {
      for (const c of credentials) {
        const args = [authenticatorId, c.credentialId, c.isResidentCredential, c.rpId, c.privateKey, c.userHandle, c.signCount];
        await chromeEval(connection, `${WEBAUTHN}.addCredential(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      }
    },
    async sidebar() {
      const json = await chromeEval(
        connection,
        `(() => { const s = window.SidebarController ?? window.SidebarUI; const b = document.getElementById('sidebar')?.contentDocument?.getElementById('webext-panels-browser'); return JSON.stringify({ open: s?.isOpen === true, url: b?.currentURI?.spec ?? null }); })()`,
      );
      return JSON.parse(String(json)) as { open: boolean; url: string | null };
    },
    async closeSidebar() {
      await chromeEval(connection, '(window.SidebarController ?? window.SidebarUI).hide(), true');
    },
    async backgroundState() {
      const state = await chromeEval(connection, `${EXTENSION_OF(GECKO_ID)}.backgroundState`);
      if (state !== 'starting' && state !== 'running' && state !== 'suspending' && state !== 'stopped') {
        throw new Error(`unexpected background state ${String(state)}`);
      }
      return state;
    },
    async suspensions() {
      const n = await chromeEval(connection, 'window.__microchatSuspensions');
      if (typeof n !== 'number') throw new Error('suspension counter missing');
      return n;
    },
    async suspendBackground() {
      // What the idle timer calls, minus its "still busy?" checks (those are what the keep-alive test exercises).
      await chromeEval(connection, `${EXTENSION_OF(GECKO_ID)}.terminateBackground({ disableResetIdleForTest: true }).then(() => true)`);
    },
    async close() {
      await browser.close().catch(() => undefined);
      if (!options.keepProfile && !options.userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
