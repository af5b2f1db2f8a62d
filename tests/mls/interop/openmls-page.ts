/**
 * The browser side of openmls.browser.test.ts, bundled by
 * tests/support/bundled-page.ts: loads CoreCrypto's wasm (served beside the
 * page as core-crypto.wasm) and offers the main OpenMLS interop scenario to
 * the Node side, run with our engine on its portable WebCrypto/noble path,
 * exactly the extension's.
 */
import * as cc from '@wireapp/core-crypto/browser';
import { factories, runMainScenario } from './openmls-scenario.ts';

export interface OpenMlsPageGlobals {
  /** Runs the main scenario for each suite; resolves to the final epochs (as strings) or rejects with the failure. */
  openMlsInterop(suites: readonly number[]): Promise<string[]>;
}

const ready = cc.initWasmModule('/core-crypto.wasm');

(globalThis as unknown as OpenMlsPageGlobals).openMlsInterop = async (suites) => {
  await ready;
  const epochs: string[] = [];
  for (const suite of suites) {
    try {
      epochs.push(String(await runMainScenario(factories(cc, suite))));
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? ` (cause: ${e.cause.message})` : '';
      throw new Error(`suite ${suite}: ${e instanceof Error ? e.message : String(e)}${cause}`);
    }
  }
  return epochs;
};
