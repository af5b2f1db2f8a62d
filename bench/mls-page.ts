/**
 * The browser side of `npm run bench:mls -- --browser`: bundled (with
 * bench/mls-core.ts and both interop adapters) by bench/mls-browser.ts and
 * loaded in headless Chromium from a loopback page. It runs the same core as
 * the Node driver; `process.getBuiltinModule` does not exist here, so our
 * engine takes the portable WebCrypto/noble path, exactly the extension's.
 *
 * The Node side starts a run with `mlsBenchStart(argv)`. Progress lines come
 * back as console messages prefixed with LOG_PREFIX; profiler start/stop
 * requests and the final result through functions the Node side exposed on
 * the page (a run can take much longer than one DevTools protocol call may).
 */
import { ourMember } from '../tests/mls/interop/ours.ts';
import { peerMember } from '../tests/mls/interop/peer.ts';
import { describeOurCrypto, describeRuntime, LOG_PREFIX, parseArgs, PEER_CRYPTO, runBench, SUITE, type BenchRecord, type Contestant } from './mls-core.ts';

/** What the page sends back when the run ends. */
export type PageOutcome =
  | { readonly ok: true; readonly records: BenchRecord[]; readonly runtime: string; readonly userAgent: string }
  | { readonly ok: false; readonly error: string };

/** Functions the Node driver exposes on the page (page.exposeFunction) and the one the page offers. */
export interface BenchPageGlobals {
  mlsBenchProfile(action: 'start' | 'stop', name: string): Promise<void>;
  mlsBenchDone(outcome: PageOutcome): Promise<void>;
  mlsBenchStart(argv: readonly string[]): void;
}

const page = globalThis as unknown as BenchPageGlobals;

function log(line: string): void {
  console.log(`${LOG_PREFIX}${line}`);
}

async function run(argv: readonly string[]): Promise<PageOutcome> {
  const args = parseArgs(argv);
  const contestants: Contestant[] = [];
  if (args.only !== 'ts-mls') contestants.push({ name: 'ours', factory: (name) => ourMember(name, SUITE) });
  if (args.only !== 'ours') contestants.push({ name: 'ts-mls', factory: (name) => peerMember(name, SUITE) });
  const runtime = describeRuntime();
  log(`runtime: ${runtime}`);
  if (args.only !== 'ts-mls') log(`ours: ${await describeOurCrypto()}`);
  if (args.only !== 'ours') log(`ts-mls: ${PEER_CRYPTO}`);
  const records = await runBench(args, contestants, {
    log,
    profile: async (name, fn) => {
      await page.mlsBenchProfile('start', name);
      try {
        return await fn();
      } finally {
        await page.mlsBenchProfile('stop', name);
      }
    },
  });
  return { ok: true, records, runtime, userAgent: navigator.userAgent };
}

page.mlsBenchStart = (argv) => {
  run(argv).then(
    (outcome) => page.mlsBenchDone(outcome),
    (e: unknown) => page.mlsBenchDone({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
};
