/**
 * The Chromium driver of `npm run bench:mls -- --browser`: runs bench/mls-core.ts
 * (through bench/mls-page.ts, with both interop adapters) inside real headless
 * Chromium, where our engine takes the extension's portable crypto path
 * (WebCrypto + noble; `process.getBuiltinModule` does not exist there).
 *
 * Steps: bundle the page with esbuild into a temp dir; serve it from a
 * loopback HTTP server (http://127.0.0.1 is a secure context, so
 * `crypto.subtle` exists; the COOP/COEP headers make the page cross-origin
 * isolated, which gives `performance.now()` 5 µs resolution instead of 100 µs,
 * needed for the sub-millisecond message operations); launch Chromium through
 * puppeteer; start the run; print the page's progress lines (console
 * messages) as they come; receive the records through an exposed function;
 * print the table; write bench-results/mls-browser.json (the records of
 * mls.json, each with the Chromium version). `--profile=OP` drives the CDP
 * Profiler of the page around that operation's runs.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type CDPSession } from 'puppeteer';
import { CHROMIUM_ARGS, chromiumPath } from '../tests/support/extension.ts';
import { LOG_PREFIX, parseArgs, report, type BenchRecord } from './mls-core.ts';
import type { BenchPageGlobals, PageOutcome } from './mls-page.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function logLine(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** A record of bench-results/mls-browser.json: mls.json's, with the Chromium version. */
export type BrowserRecord = BenchRecord & { chromium: string };

/** Bundles bench/mls-page.ts (and all it imports) for the browser into `dir`/page.js. */
async function bundle(dir: string): Promise<void> {
  await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'esbuild'),
    [
      join(ROOT, 'bench', 'mls-page.ts'),
      '--bundle',
      '--format=esm',
      '--platform=browser',
      '--target=es2022',
      '--sourcemap',
      '--log-level=warning',
      `--outfile=${join(dir, 'page.js')}`,
    ],
    { cwd: ROOT },
  );
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bench:mls</title><script type="module" src="page.js"></script>\n');
}

const TYPES: Record<string, string> = { html: 'text/html', js: 'text/javascript', map: 'application/json' };

/** Serves the files of `dir` on 127.0.0.1, cross-origin isolated. */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.slice(1) || 'index.html';
    const type = TYPES[name.split('.').pop() ?? ''];
    if (!/^[\w.-]+$/.test(name) || type === undefined) {
      res.writeHead(404).end();
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

/** Starts and stops the page's CPU profiler, saving profiles in `resultsDir`. */
function profiler(session: CDPSession, resultsDir: string, log: (line: string) => void) {
  return async (action: 'start' | 'stop', name: string): Promise<void> => {
    if (action === 'start') {
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: 100 });
      await session.send('Profiler.start');
      return;
    }
    const { profile } = await session.send('Profiler.stop');
    const file = join(resultsDir, `${name.replace(/^profile-/, 'profile-browser-')}.cpuprofile`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    log(`  wrote ${file}`);
  };
}

export interface BrowserRunOptions {
  /** Where mls-browser.json and profiles go. */
  readonly resultsDir: string;
  /** Progress lines (default: stderr). */
  readonly progress?: (line: string) => void;
  /** The report (default: stdout). */
  readonly print?: (line: string) => void;
}

/** Runs the benchmark for `argv` in headless Chromium; resolves to the records written. */
export async function runInBrowser(argv: readonly string[], options: BrowserRunOptions): Promise<BrowserRecord[]> {
  const { resultsDir, progress: log = logLine, print = (line: string) => console.log(line) } = options;
  const args = parseArgs(argv);
  const dir = mkdtempSync(join(tmpdir(), 'microchat-bench-mls-'));
  let server: Server | undefined;
  let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
  try {
    await bundle(dir);
    const served = await serve(dir);
    server = served.server;
    browser = await puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      pipe: true,
      userDataDir: join(dir, 'profile'),
      // A full run is one long page evaluation per phase; never time out a protocol call.
      protocolTimeout: 0,
      args: [...CHROMIUM_ARGS],
    });
    const version = (await browser.version()).replace(/^(Headless)?Chrome\//, '');
    log(`Chromium ${version} (headless) at ${served.url}`);
    const page = await browser.newPage();
    const session = await page.createCDPSession();

    let settle: (outcome: PageOutcome) => void = () => {};
    const finished = new Promise<PageOutcome>((resolve) => (settle = resolve));
    page.on('console', (m) => {
      const text = m.text();
      log(text.startsWith(LOG_PREFIX) ? text.slice(LOG_PREFIX.length) : `[page ${m.type()}] ${text}`);
    });
    page.on('pageerror', (e) => settle({ ok: false, error: `page error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` }));
    page.on('error', (e) => settle({ ok: false, error: `page crashed: ${e.message}` }));
    await page.exposeFunction('mlsBenchProfile', profiler(session, resultsDir, log));
    await page.exposeFunction('mlsBenchDone', (outcome: PageOutcome) => settle(outcome));

    await page.goto(served.url, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (globalThis as unknown as Partial<BenchPageGlobals>).mlsBenchStart === 'function');
    await page.evaluate((a) => (globalThis as unknown as BenchPageGlobals).mlsBenchStart(a), [...argv]);
    const outcome = await finished;
    if (!outcome.ok) throw new Error(`bench:mls in Chromium failed: ${outcome.error}`);

    const records: BrowserRecord[] = outcome.records.map((r) => ({ ...r, chromium: version }));
    for (const line of report(outcome.records, args, `Chromium ${version} (${outcome.runtime})`)) print(line);
    const file = join(resultsDir, 'mls-browser.json');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(records, null, 2)}\n`);
    print(`\nwrote ${file}`);
    return records;
  } finally {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
