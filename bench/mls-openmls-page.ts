/**
 * The browser side of `npm run bench:mls -- --peer openmls --browser`:
 * bundled by bench/mls-openmls.ts (tests/support/bundled-page.ts) and run in
 * headless Chromium with CoreCrypto's wasm served beside it. Our engine takes
 * its portable WebCrypto/noble path here, exactly the extension's.
 * Progress comes back as console lines prefixed with LOG_PREFIX; profiler
 * and load requests and the result through functions the driver exposed.
 */
import * as cc from '@wireapp/core-crypto/browser';
import { describeRuntime } from './mls-core.ts';
import { parseOpenMlsArgs, runOpenMlsBench, type OpenMlsRecord } from './mls-openmls-core.ts';

export const LOG_PREFIX = '[openmls-bench] ';

export type OpenMlsPageOutcome = { readonly ok: true; readonly records: OpenMlsRecord[]; readonly runtime: string } | { readonly ok: false; readonly error: string };

export interface OpenMlsPageGlobals {
  openMlsBenchProfile(action: 'start' | 'stop', name: string): Promise<void>;
  openMlsBenchLoad(): Promise<number | null>;
  openMlsBenchDone(outcome: OpenMlsPageOutcome): Promise<void>;
  openMlsBenchStart(argv: readonly string[]): void;
}

const page = globalThis as unknown as OpenMlsPageGlobals;
const log = (line: string): void => console.log(`${LOG_PREFIX}${line}`);

async function run(argv: readonly string[]): Promise<OpenMlsPageOutcome> {
  await cc.initWasmModule('/core-crypto.wasm');
  const runtime = describeRuntime();
  log(`runtime: ${runtime}`);
  const records = await runOpenMlsBench(cc, parseOpenMlsArgs(argv), runtime, {
    log,
    load: () => page.openMlsBenchLoad(),
    profile: async (name, fn) => {
      await page.openMlsBenchProfile('start', name);
      try {
        return await fn();
      } finally {
        await page.openMlsBenchProfile('stop', name);
      }
    },
  });
  return { ok: true, records, runtime };
}

page.openMlsBenchStart = (argv) => {
  run(argv).then(
    (outcome) => page.openMlsBenchDone(outcome),
    (e: unknown) => page.openMlsBenchDone({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
};
