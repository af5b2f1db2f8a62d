/**
 * What the background's script does before its main() runs is paid on every wake of the worker. noble's AES module
 * builds its lookup tables (65,536 words each) as it is evaluated, the largest single item of that top level in a
 * profile, while the background rarely needs noble's AES (browsers do the MLS suites' AES-GCM in WebCrypto): it is
 * loaded on first use (lib/crypto/noble-aes.ts). This evaluates the built scripts' top level, main() left out, and
 * counts the tables made. The build of main before this change made 2.
 *
 * In the e2e project (hence `.browser.test.ts`): its globalSetup builds the extension first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/extension.ts';

/** A context with what the script's top level touches, counting every Uint32Array of 65,536 words made in it. */
function countingContext(): vm.Context {
  const ctx = vm.createContext({ console, URL, TextEncoder, TextDecoder, crypto: globalThis.crypto, performance, setTimeout, clearTimeout, navigator: {} });
  vm.runInContext(
    `globalThis.self = globalThis;
     globalThis.chrome = { runtime: { id: 'x' }, i18n: { getMessage: (k) => k, getUILanguage: () => 'en' } };
     globalThis.bigTables = 0;
     const Native = Uint32Array;
     globalThis.Uint32Array = class extends Native { constructor(...a) { if (a[0] === 65536) globalThis.bigTables++; super(...a); } };`,
    ctx,
  );
  return ctx;
}

describe("the background's top level", () => {
  it('counts a table when one is made (the check works)', () => {
    const ctx = countingContext();
    vm.runInContext('new Uint32Array(256 * 256)', ctx);
    expect(ctx.bigTables).toBe(1);
  });

  // The worker's shell runs at every wake, the full background's script at every wake that needs it
  // (lib/background/engine.ts): neither builds the tables as it is evaluated.
  it.each(['background.js', 'engine.js'])("%s builds no AES tables before main() (noble's AES is loaded on first use)", (file) => {
    const code = readFileSync(path.join(ROOT, '.output', 'chrome-mv3', file), 'utf8');
    // WXT's wrapper calls the entrypoint's main() last: everything before it is the top level.
    const call = /([\w$]+)=([\w$]+)\.main\(\)/.exec(code);
    expect(call, 'the call of main() in the built script').not.toBeNull();
    const ctx = countingContext();
    vm.runInContext(code.replace(call![0], () => `${call![1]}=0`), ctx);
    expect(ctx.bigTables).toBe(0);
  });
});
