/**
 * The main OpenMLS interop scenario (openmls-scenario.ts) in headless
 * Chromium, the runtime MicroChat ships in: CoreCrypto's wasm and our engine
 * (on the extension's WebCrypto/noble path) in one page, suites 1, 2 and 3.
 * Runs in the e2e project (Chromium needed); the Node tests are
 * openmls.interop.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundledPage, type BundledPage } from '../../support/bundled-page.ts';
import { coreCryptoWasmUrl } from '../../support/core-crypto-node.ts';
import type { OpenMlsPageGlobals } from './openmls-page.ts';

let page: BundledPage;
const consoleLines: string[] = [];

beforeAll(async () => {
  const wasm = fileURLToPath(coreCryptoWasmUrl(import.meta.resolve('@wireapp/core-crypto/browser')));
  page = await openBundledPage('tests/mls/interop/openmls-page.ts', {
    files: { 'core-crypto.wasm': wasm },
    onConsole: (line) => consoleLines.push(line),
  });
});

afterAll(async () => {
  await page?.close();
});

describe('OpenMLS interop in headless Chromium', () => {
  it('main scenario, suites 1, 2 and 3: Welcome both ways, messages, full-path commits, adds, removes, external joins, our Remove committed by OpenMLS', async () => {
    const epochs = await page.page.evaluate(
      (suites) => (globalThis as unknown as OpenMlsPageGlobals).openMlsInterop(suites),
      [1, 2, 3],
    );
    expect(epochs, consoleLines.join('\n')).toEqual(['11', '11', '11']);
    expect(page.version).toMatch(/^\d+\./);
  });
});
