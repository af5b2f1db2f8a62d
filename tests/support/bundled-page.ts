/**
 * A plain page in headless Chromium running one TypeScript entry, bundled
 * with esbuild: for code that must run in the browser but is not the
 * extension (the OpenMLS interop test and benchmark, which load CoreCrypto's
 * wasm beside our engine).
 *
 * The page is served from a loopback HTTP server: http://127.0.0.1 is a secure
 * context (`crypto.subtle`, `crypto.randomUUID`), and the COOP/COEP headers
 * make it cross-origin isolated, which gives `performance.now()` 5 µs
 * resolution instead of 100 µs. Extra files (the wasm) are served by name.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { CHROMIUM_ARGS, ROOT, chromiumPath } from './extension.ts';

const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript', map: 'application/json', wasm: 'application/wasm' };

export interface BundledPage {
  readonly browser: Browser;
  readonly page: Page;
  /** Chromium's version, e.g. "156.0.7500.0". */
  readonly version: string;
  readonly url: string;
  close(): Promise<void>;
}

export interface BundledPageOptions {
  /** Files to serve beside the page: served name → absolute path. */
  readonly files?: Readonly<Record<string, string>>;
  /** Lines the page logs (console messages). */
  readonly onConsole?: (line: string) => void;
}

/** Bundles `entry` (a path from the repository root), serves it, and opens it in headless Chromium. */
export async function openBundledPage(entry: string, options: BundledPageOptions = {}): Promise<BundledPage> {
  const dir = mkdtempSync(path.join(tmpdir(), 'microchat-page-'));
  let server: Server | undefined;
  let browser: Browser | undefined;
  const cleanup = async (): Promise<void> => {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await promisify(execFile)(
      path.join(ROOT, 'node_modules', '.bin', 'esbuild'),
      [path.join(ROOT, entry), '--bundle', '--format=esm', '--platform=browser', '--target=es2022', '--log-level=warning', `--outfile=${path.join(dir, 'page.js')}`],
      { cwd: ROOT },
    );
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="page.js"></script>\n');
    const files = new Map(Object.entries(options.files ?? {}));
    server = createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.slice(1) || 'index.html';
      const type = TYPES[name.split('.').pop() ?? ''];
      const file = files.get(name) ?? (/^[\w.-]+$/.test(name) ? path.join(dir, name) : undefined);
      let body: Buffer | undefined;
      try {
        body = file === undefined || type === undefined ? undefined : readFileSync(file);
      } catch {
        body = undefined;
      }
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': type!,
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      pipe: true,
      userDataDir: path.join(dir, 'profile'),
      // Benchmarks run one long evaluation: never time out a protocol call.
      protocolTimeout: 0,
      args: [...CHROMIUM_ARGS],
    });
    const version = (await browser.version()).replace(/^(Headless)?Chrome\//, '');
    const page = await browser.newPage();
    if (options.onConsole !== undefined) {
      const onConsole = options.onConsole;
      page.on('console', (m) => onConsole(m.text()));
    }
    await page.goto(url, { waitUntil: 'load' });
    return { browser, page, version, url, close: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
