/**
 * E2E harness: launches Debian's Chromium through puppeteer with the built,
 * unpacked extension, finds its service worker, opens extension pages as
 * tabs, adds a CDP virtual authenticator (passkeys in tests) and saves
 * screenshots. Nothing here is mocked: it is the real browser and extension.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type CDPSession, type Page, type WebWorker } from 'puppeteer';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const EXTENSION_DIR = path.join(ROOT, '.output', 'chrome-mv3');
export const ARTIFACTS_DIR = path.join(ROOT, 'artifacts', 'e2e');

/** How this machine runs Chromium in tests and benchmarks (no sandbox, no GPU, nothing phoning home). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  const candidates = [process.env.PUPPETEER_EXECUTABLE_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p): p is string => typeof p === 'string' && p.length > 0 && existsSync(p));
  if (!found) throw new Error('Chromium not found: install Debian\'s chromium (apt-get install -y chromium) or set PUPPETEER_EXECUTABLE_PATH');
  return found;
}

export interface ExtensionBrowser {
  browser: Browser;
  extensionId: string;
  userDataDir: string;
  /** The extension's service worker (the background). */
  worker(): Promise<WebWorker>;
  /** Open an extension page (e.g. 'sidepanel.html') in a new tab. */
  openPage(file: string): Promise<Page>;
  /** Add a CTAP2 platform authenticator (with PRF unless `{ prf: false }`) to a page's target. */
  addVirtualAuthenticator(page: Page, options?: AuthenticatorOptions): Promise<{ session: CDPSession; authenticatorId: string }>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Reuse a profile (to restart a "user's" browser); a temp one otherwise. */
  userDataDir?: string;
  /** Keep the profile folder on close. */
  keepProfile?: boolean;
  /** Load the unpacked extension from this folder instead of EXTENSION_DIR (see snapshotExtension). */
  extensionDir?: string;
  /** More Chromium flags, e.g. ['--lang=de'] for the browser's UI language. */
  args?: readonly string[];
  /** More environment for the browser; on Linux the UI language comes from LANGUAGE/LANG, not --lang. */
  env?: Record<string, string>;
}

export interface AuthenticatorOptions {
  /** Whether the authenticator evaluates the WebAuthn PRF extension (default true). */
  prf?: boolean;
}

/**
 * The id Chromium gives an unpacked extension: the first 128 bits of
 * SHA-256 over its absolute folder path, hex digits 0-f written as a-p. It is
 * known before the browser starts, so a relay can be told the id up front.
 */
export function extensionIdForPath(dir: string): string {
  const hex = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join('');
}

/**
 * Copy the built extension to a private folder, so a long e2e run keeps the
 * code it started with while someone rebuilds .output/, and every launch of
 * the snapshot gets the same id. Returns the folder and that id.
 */
export function snapshotExtension(): { dir: string; id: string } {
  if (!existsSync(path.join(EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`extension not built: ${EXTENSION_DIR} (run npm run build)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'microchat-extension-'));
  cpSync(EXTENSION_DIR, dir, { recursive: true });
  return { dir, id: extensionIdForPath(dir) };
}

export async function launchWithExtension(options: LaunchOptions = {}): Promise<ExtensionBrowser> {
  const extensionDir = options.extensionDir ?? EXTENSION_DIR;
  if (!existsSync(path.join(extensionDir, 'manifest.json'))) {
    throw new Error(`extension not built: ${extensionDir} (run npm run build)`);
  }
  const userDataDir = options.userDataDir ?? mkdtempSync(path.join(tmpdir(), 'microchat-profile-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    pipe: true,
    enableExtensions: [extensionDir],
    userDataDir,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });

  const target = await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith('chrome-extension://'), {
    timeout: 30_000,
  });
  const extensionId = new URL(target.url()).host;

  return {
    browser,
    extensionId,
    userDataDir,
    async worker() {
      const t = await browser.waitForTarget(
        (x) => x.type() === 'service_worker' && x.url().startsWith(`chrome-extension://${extensionId}/`),
        { timeout: 30_000 },
      );
      const w = await t.worker();
      if (!w) throw new Error('service worker target has no worker');
      return w;
    },
    async openPage(file) {
      const page = await browser.newPage();
      await page.setViewport({ width: 420, height: 720 });
      await page.goto(`chrome-extension://${extensionId}/${file}`, { waitUntil: 'domcontentloaded' });
      return page;
    },
    async addVirtualAuthenticator(page, authOptions = {}) {
      const session = await page.createCDPSession();
      await session.send('WebAuthn.enable');
      const { authenticatorId } = await session.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
          hasPrf: authOptions.prf ?? true,
        },
      });
      return { session, authenticatorId };
    },
    async close() {
      await browser.close().catch(() => undefined);
      if (!options.keepProfile && !options.userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Save a screenshot of what the page shows to artifacts/e2e/<name>.png and
 * return its path. The side panel is the whole app and scrolls inside itself,
 * so the viewport is the picture; a full-page capture lays the page out again
 * for one frame, and the virtualised message list followed that frame (blank
 * list in the picture, never on screen). `fullPage` asks for one all the same.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? false, captureBeyondViewport: false });
  return file;
}
