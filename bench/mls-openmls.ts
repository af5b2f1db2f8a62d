/**
 * `npm run bench:mls -- --peer openmls [--browser] [--quick] [--n=2,256,1024] [--profile=OP]`:
 * our engine against OpenMLS (`@wireapp/core-crypto` 10.3.0, GPL-3.0,
 * devDependency), suite 1. What is measured is described in
 * bench/mls-openmls-core.ts.
 *
 * Under Node the core runs in this process (CoreCrypto loaded through
 * tests/support/core-crypto-node.ts; our engine on its Node fast path) and
 * writes bench-results/mls-openmls.json. `--browser` runs it in headless
 * Chromium instead (bench/mls-openmls-page.ts, our engine on the extension's
 * WebCrypto/noble path) and writes bench-results/mls-openmls-browser.json.
 * Every row carries the runtime and the machine's 1-minute load average: the
 * machine may be shared, so the ratios (runs alternate) mean more than the
 * absolute figures.
 *
 * `--profile=OP` records a CPU profile of the phase holding OP (both
 * implementations' runs) to bench-results/profile-openmls-OP-N<n>.cpuprofile
 * (with --browser: profile-browser-openmls-...), through the V8 inspector or
 * the page's DevTools protocol Profiler.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBundledPage } from '../tests/support/bundled-page.ts';
import { coreCryptoWasmUrl, loadCoreCrypto } from '../tests/support/core-crypto-node.ts';
import { describeRuntime } from './mls-core.ts';
import { parseOpenMlsArgs, reportOpenMls, runOpenMlsBench, type OpenMlsHost, type OpenMlsRecord } from './mls-openmls-core.ts';
import { LOG_PREFIX, type OpenMlsPageGlobals, type OpenMlsPageOutcome } from './mls-openmls-page.ts';

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function write(resultsDir: string, file: string, records: readonly OpenMlsRecord[]): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, file), `${JSON.stringify(records, null, 2)}\n`);
  console.log(`\nwrote ${join(resultsDir, file)}`);
}

function saveProfile(resultsDir: string, name: string, profile: unknown): void {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  log(`  wrote ${file}`);
}

const load = async (): Promise<number | null> => loadavg()[0] ?? null;

async function runInNode(argv: readonly string[], resultsDir: string): Promise<void> {
  const args = parseOpenMlsArgs(argv);
  const cc = await loadCoreCrypto();
  const runtime = `${describeRuntime()} (CoreCrypto wasm)`;
  log(`runtime: ${runtime}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const host: OpenMlsHost = {
    log,
    load,
    profile: async (name, fn) => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      try {
        return await fn();
      } finally {
        saveProfile(resultsDir, name, (await session.post('Profiler.stop')).profile);
        session.disconnect();
      }
    },
  };
  const records = await runOpenMlsBench(cc, args, runtime, host);
  for (const line of reportOpenMls(records, runtime, false)) console.log(line);
  write(resultsDir, 'mls-openmls.json', records);
}

async function runInBrowser(argv: readonly string[], resultsDir: string): Promise<void> {
  const wasm = fileURLToPath(coreCryptoWasmUrl(import.meta.resolve('@wireapp/core-crypto/browser')));
  let settle: (o: OpenMlsPageOutcome) => void = () => {};
  const finished = new Promise<OpenMlsPageOutcome>((resolve) => (settle = resolve));
  const opened = await openBundledPage('bench/mls-openmls-page.ts', {
    files: { 'core-crypto.wasm': wasm },
    onConsole: (line) => log(line.startsWith(LOG_PREFIX) ? line.slice(LOG_PREFIX.length) : `[page] ${line}`),
  });
  try {
    const { page } = opened;
    const session = await page.createCDPSession();
    page.on('pageerror', (e) => settle({ ok: false, error: `page error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` }));
    await page.exposeFunction('openMlsBenchLoad', load);
    await page.exposeFunction('openMlsBenchDone', (o: OpenMlsPageOutcome) => settle(o));
    await page.exposeFunction('openMlsBenchProfile', async (action: 'start' | 'stop', name: string) => {
      if (action === 'start') {
        await session.send('Profiler.enable');
        await session.send('Profiler.setSamplingInterval', { interval: 100 });
        await session.send('Profiler.start');
        return;
      }
      saveProfile(resultsDir, name.replace(/^profile-/, 'profile-browser-'), (await session.send('Profiler.stop')).profile);
    });
    log(`Chromium ${opened.version} (headless), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    await page.waitForFunction(() => typeof (globalThis as unknown as Partial<OpenMlsPageGlobals>).openMlsBenchStart === 'function');
    await page.evaluate((a) => (globalThis as unknown as OpenMlsPageGlobals).openMlsBenchStart(a), [...argv]);
    const outcome = await finished;
    if (!outcome.ok) throw new Error(`bench:mls --peer openmls in Chromium failed: ${outcome.error}`);
    const runtime = `Chromium ${opened.version} (${outcome.runtime})`;
    const records = outcome.records.map((r) => ({ ...r, runtime }));
    for (const line of reportOpenMls(records, runtime, true)) console.log(line);
    write(resultsDir, 'mls-openmls-browser.json', records);
  } finally {
    await opened.close();
  }
}

/** Entry from bench/mls.ts when `--peer openmls` is given; `argv` is everything else. */
export async function runOpenMls(argv: readonly string[], resultsDir: string): Promise<void> {
  await (parseOpenMlsArgs(argv).browser ? runInBrowser(argv, resultsDir) : runInNode(argv, resultsDir));
}
