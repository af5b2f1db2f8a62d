/**
 * `npm run bench:mls` (tsx bench/mls.ts [--quick] [--only=ours|ts-mls] [--n=1024,256] [--profile=OP] [--browser]):
 * (with `--peer openmls`, against OpenMLS instead: bench/mls-openmls.ts)
 * our MLS engine against ts-mls 1.6.4, suite 1, at N = 2, 32, 256 and 1024
 * members. What is measured and how is described in bench/mls-core.ts, which
 * holds everything but the environment; this file is the Node driver.
 *
 * Under Node the benchmark runs in this process (our engine takes lib/crypto's
 * Node fast path there) and writes bench-results/mls.json (one record per
 * operation and N). `--browser` runs the very same core inside headless
 * Chromium instead (bench/mls-browser.ts), where our engine takes the portable
 * WebCrypto/noble path the extension runs, and writes
 * bench-results/mls-browser.json.
 *
 * `--profile=OP` also records a CPU profile of that operation's runs (both
 * implementations unless --only) to bench-results/profile-<OP>-N<n>.cpuprofile
 * (with --browser: profile-browser-<OP>-N<n>.cpuprofile); open it in Chrome
 * DevTools or speedscope.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerMember } from '../tests/mls/interop/peer.ts';
import { describeOurCrypto, describeRuntime, parseArgs, PEER_CRYPTO, report, runBench, SUITE, type BenchHost, type Contestant } from './mls-core.ts';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Runs `fn` under the V8 CPU profiler of this process, saving the profile in RESULTS_DIR. */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const file = join(RESULTS_DIR, `${name}.cpuprofile`);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    log(`  wrote ${file}`);
  }
}

async function runInNode(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  const contestants: Contestant[] = [];
  if (args.only !== 'ts-mls') {
    // Loaded only when needed, so --only=ts-mls never touches lib/.
    const { ourMember } = await import('../tests/mls/interop/ours.ts');
    contestants.push({ name: 'ours', factory: (name) => ourMember(name, SUITE) });
  }
  if (args.only !== 'ours') contestants.push({ name: 'ts-mls', factory: (name) => peerMember(name, SUITE) });

  const runtime = describeRuntime();
  log(`runtime: ${runtime}`);
  if (args.only !== 'ts-mls') log(`ours: ${await describeOurCrypto()}`);
  if (args.only !== 'ours') log(`ts-mls: ${PEER_CRYPTO}`);
  const host: BenchHost = { log, profile: profiled };
  const records = await runBench(args, contestants, host);

  for (const line of report(records, args, runtime)) console.log(line);
  const file = join(RESULTS_DIR, 'mls.json');
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(records, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

const argv = process.argv.slice(2);
// `--peer openmls` (or --peer=openmls): against OpenMLS instead of ts-mls (bench/mls-openmls.ts).
const peerAt = argv.findIndex((a) => a === '--peer' || a.startsWith('--peer='));
if (peerAt >= 0) {
  const peer = argv[peerAt] === '--peer' ? argv[peerAt + 1] : argv[peerAt]!.slice('--peer='.length);
  if (peer !== 'openmls') throw new Error(`--peer ${peer ?? ''}: only openmls (ts-mls is the default peer)`);
  const { runOpenMls } = await import('./mls-openmls.ts');
  await runOpenMls(argv.filter((_, i) => i !== peerAt && !(argv[peerAt] === '--peer' && i === peerAt + 1)), RESULTS_DIR);
} else if (parseArgs(argv).browser) {
  const { runInBrowser } = await import('./mls-browser.ts');
  await runInBrowser(argv, { resultsDir: RESULTS_DIR });
} else {
  await runInNode(argv);
}
