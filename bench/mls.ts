/**
 * `npm run bench:mls` (tsx bench/mls.ts [--quick] [--only=ours|ts-mls] [--n=1024,256] [--profile=OP]):
 * times our MLS engine and ts-mls 1.6.4 for cipher suite 1 at N = 2, 32, 256
 * and 1024 members, both driven through the same `InteropMember` interface
 * with MLSMessage bytes (so both pay their own encoding and decoding).
 *
 * Operations (median ms over repeated runs from the same immutable state):
 *  - add_all:           adding N-1 members to a fresh group, in commits of 100 adds (total);
 *  - commit_blank:      an empty commit (full path) by the creator right after the adds:
 *                       nobody else has committed, so each copath resolution is all leaves;
 *  - commit_populated:  the same in a populated tree: one member in every subtree of the
 *                       creator's copath has committed once, so each resolution is one node;
 *  - process_commit:    a member processes that populated-tree commit;
 *  - process_blank:     a member processes the blank-tree commit (extra, no target);
 *  - join_welcome:      a member of the last add batch joins from its Welcome (ratchet_tree extension);
 *  - encrypt, decrypt:  a 100-byte application message, one ratchet step each.
 *
 * Why "populated" is built this way: a literal "every member has committed once"
 * history needs every member to process every other member's commit (O(N²)
 * processing, hours for ts-mls at N=1024). What a commit costs depends only on
 * the committer's copath, so for each copath subtree (leaves 2^k .. 2^(k+1)-1)
 * the creator replaces leaf 2^k by a fresh member (remove + add in one commit),
 * who joins and commits once, and the creator processes that commit.
 *
 * Prints a table with the ratio ts-mls/ours and whether the N=1024 targets are
 * met, and writes bench-results/mls.json (one record per operation and N).
 * `--profile=OP` also records a CPU profile of just that operation's runs, per
 * implementation and N, to bench-results/profile-<impl>-<OP>-N<n>.cpuprofile
 * (open it in Chrome DevTools or speedscope).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesEqual } from '../lib/mls/codec.ts';
import { utf8, type InteropMember } from '../tests/mls/interop/member.ts';
import { peerMember } from '../tests/mls/interop/peer.ts';
import { formatMs, measure, timed, type Measurement, type MeasureOptions } from './timing.ts';

const SUITE = 1;
const BATCH = 100;

type Factory = (name: string) => Promise<InteropMember>;
type ImplName = 'ours' | 'ts-mls';

const OPERATIONS = [
  'add_all',
  'commit_blank',
  'commit_populated',
  'process_commit',
  'process_blank',
  'join_welcome',
  'encrypt',
  'decrypt',
] as const;
type Operation = (typeof OPERATIONS)[number];

/** Targets at N=1024, as ts-mls time / our time. */
const TARGETS: Partial<Record<Operation, number>> = {
  commit_populated: 50,
  process_commit: 100,
  join_welcome: 5,
  commit_blank: 4,
  encrypt: 5,
  decrypt: 4,
};

interface Args {
  readonly quick: boolean;
  readonly only: ImplName | undefined;
  readonly sizes: readonly number[];
  readonly profile: Operation | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (onlyArg !== undefined && onlyArg !== 'ours' && onlyArg !== 'ts-mls') throw new Error('--only=ours|ts-mls');
  const nArg = argv.find((a) => a.startsWith('--n='))?.slice('--n='.length);
  const sizes = nArg !== undefined ? nArg.split(',').map(Number) : quick ? [2, 32] : [2, 32, 256, 1024];
  if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('--n=N[,N...] with N >= 2');
  const profile = argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);
  if (profile !== undefined && !(OPERATIONS as readonly string[]).includes(profile)) throw new Error(`--profile=${OPERATIONS.join('|')}`);
  return { quick, only: onlyArg, sizes, profile: profile as Operation | undefined };
}

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');

/** Runs `fn`, under the V8 CPU profiler when `file` is given. */
async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (file === undefined) return fn();
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

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function reps(args: Args, n: number, expensive: boolean): MeasureOptions {
  if (args.quick) return { minReps: 2, maxReps: 5, budgetMs: 500 };
  if (expensive && n >= 256) return { minReps: 1, maxReps: 3, budgetMs: 1 };
  return { minReps: 3, maxReps: 15, budgetMs: 2500 };
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`bench: missing ${what}`);
  return v;
}

/** Checks (untimed) that two members reached the same epoch state, so the timed work was real. */
function expectSameEpoch(a: InteropMember, b: InteropMember, step: string): void {
  if (a.epoch() !== b.epoch() || !bytesEqual(a.epochAuthenticator(), b.epochAuthenticator())) {
    throw new Error(`bench (${a.impl}): ${a.name} and ${b.name} disagree after ${step}`);
  }
}

/** Runs every operation for one implementation at group size `n`. */
async function benchOne(impl: ImplName, factory: Factory, n: number, args: Args): Promise<Record<Operation, Measurement>> {
  const out: Partial<Record<Operation, Measurement>> = {};
  const step = (op: Operation, m: Measurement): void => {
    out[op] = m;
    log(`  ${impl} N=${n} ${op}: ${formatMs(m.medianMs)} ms (${m.reps} runs)`);
  };
  const measureOp = <T>(op: Operation, setup: () => T | Promise<T>, run: (p: T) => unknown, options: MeasureOptions): Promise<Measurement> =>
    profiled(args.profile === op ? join(RESULTS_DIR, `profile-${impl}-${op}-N${n}.cpuprofile`) : undefined, () =>
      measure(setup, run, options),
    );

  const creator0 = await factory('m0');
  await creator0.createGroup(utf8(`bench ${impl} ${n}`));
  const others: InteropMember[] = [];
  const keyPackages: Uint8Array[] = [];
  const kpTime = await timed(async () => {
    for (let i = 1; i < n; i++) {
      const m = await factory(`m${i}`);
      others.push(m);
      keyPackages.push(await m.keyPackage());
    }
  });
  log(`  ${impl} N=${n}: ${n - 1} key packages in ${formatMs(kpTime.ms)} ms (untimed setup)`);

  // add_all: every member, in commits of BATCH adds; the last run's result is kept.
  let full: InteropMember | undefined;
  let lastWelcome: Uint8Array | undefined;
  step(
    'add_all',
    await measureOp(
      'add_all',
      () => creator0.fork(),
      async (c) => {
        for (let i = 0; i < keyPackages.length; i += BATCH) {
          const r = await c.commit({ adds: keyPackages.slice(i, i + BATCH) });
          lastWelcome = r.welcome;
        }
        full = c;
      },
      reps(args, n, true),
    ),
  );
  const fullState = must(full, 'group after adds');
  const welcome = must(lastWelcome, 'Welcome');
  const joiner0 = must(others.at(-1), 'joiner');

  // join_welcome: the last added member joins.
  let joined: InteropMember | undefined;
  step(
    'join_welcome',
    await measureOp(
      'join_welcome',
      () => joiner0.fork(),
      async (j) => {
        await j.joinFromWelcome(welcome);
        joined = j;
      },
      reps(args, n, false),
    ),
  );
  const member = must(joined, 'joined member');
  expectSameEpoch(fullState, member, 'join');

  // commit_blank / process_blank.
  let blankCommit: Uint8Array | undefined;
  let blankCommitter: InteropMember | undefined;
  step(
    'commit_blank',
    await measureOp(
      'commit_blank',
      () => fullState.fork(),
      async (c) => {
        blankCommit = (await c.commit()).commit;
        blankCommitter = c;
      },
      reps(args, n, false),
    ),
  );
  const blank = must(blankCommit, 'blank commit');
  let blankReceiver: InteropMember | undefined;
  step(
    'process_blank',
    await measureOp(
      'process_blank',
      () => member.fork(),
      async (m) => {
        await m.process(blank);
        blankReceiver = m;
      },
      reps(args, n, false),
    ),
  );
  expectSameEpoch(must(blankCommitter, 'blank committer'), must(blankReceiver, 'blank receiver'), 'blank commit');

  // encrypt / decrypt: one sender, one reader, messages in order (one ratchet step each).
  const payload = new Uint8Array(100).fill(0x61);
  const sender = fullState.fork();
  const reader = member.fork();
  const ciphertexts: Uint8Array[] = [];
  const msgReps: MeasureOptions = args.quick ? { minReps: 5, maxReps: 10, budgetMs: 200 } : { minReps: 30, maxReps: 60, budgetMs: 1500 };
  step('encrypt', await measureOp('encrypt', () => sender, async (s) => void ciphertexts.push(await s.encrypt(payload)), msgReps));
  let next = 0;
  step(
    'decrypt',
    await measureOp(
      'decrypt',
      () => must(ciphertexts[next++], 'ciphertext'),
      async (ct) => {
        const r = await reader.process(ct);
        if (r.kind !== 'application' || !bytesEqual(r.data, payload)) throw new Error('bench: wrong plaintext');
      },
      { ...msgReps, maxReps: ciphertexts.length - 1, minReps: Math.min(msgReps.minReps, ciphertexts.length - 1) },
    ),
  );

  // Populate the creator's copath (see the header), then commit_populated / process_commit.
  const popTime = await timed(async () => {
    const creator = fullState.fork();
    let receiver = member.fork();
    for (let k = Math.floor(Math.log2(n - 1)); k >= 1; k--) {
      const leaf = 2 ** k;
      const p = await factory(`p${k}`);
      const kp = await p.keyPackage();
      const r = await creator.commit({ removes: [leaf], adds: [kp] });
      await p.joinFromWelcome(must(r.welcome, 'populator Welcome'));
      if (p.ownLeafIndex() !== leaf) throw new Error(`bench: populator landed at ${p.ownLeafIndex()}, not ${leaf}`);
      const c = await p.commit();
      await creator.process(c.commit);
      expectSameEpoch(creator, p, `populator ${k}`);
      receiver = p;
    }
    return { creator, receiver };
  });
  log(`  ${impl} N=${n}: populated the copath in ${formatMs(popTime.ms)} ms (untimed setup)`);
  const { creator, receiver } = popTime.value;
  let popCommit: Uint8Array | undefined;
  let popCommitter: InteropMember | undefined;
  step(
    'commit_populated',
    await measureOp(
      'commit_populated',
      () => creator.fork(),
      async (c) => {
        popCommit = (await c.commit()).commit;
        popCommitter = c;
      },
      reps(args, n, false),
    ),
  );
  const populated = must(popCommit, 'populated commit');
  let popReceiver: InteropMember | undefined;
  step(
    'process_commit',
    await measureOp(
      'process_commit',
      () => receiver.fork(),
      async (m) => {
        await m.process(populated);
        popReceiver = m;
      },
      reps(args, n, false),
    ),
  );
  expectSameEpoch(must(popCommitter, 'populated committer'), must(popReceiver, 'populated receiver'), 'populated commit');

  return out as Record<Operation, Measurement>;
}

interface BenchRecord {
  operation: Operation;
  n: number;
  suite: number;
  ours_ms: number | null;
  peer_ms: number | null;
  ratio: number | null;
  ours_runs: number | null;
  peer_runs: number | null;
}

async function oursFactory(): Promise<Factory> {
  const mod = await import('../tests/mls/interop/ours.ts');
  return (name) => mod.ourMember(name, SUITE);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const impls: [ImplName, Factory][] = [];
  if (args.only !== 'ts-mls') impls.push(['ours', await oursFactory()]);
  if (args.only !== 'ours') impls.push(['ts-mls', (name) => peerMember(name, SUITE)]);

  const records: BenchRecord[] = [];
  for (const n of args.sizes) {
    const results = new Map<ImplName, Record<Operation, Measurement>>();
    for (const [name, factory] of impls) {
      log(`${name}, N=${n}`);
      results.set(name, await benchOne(name, factory, n, args));
    }
    for (const op of OPERATIONS) {
      const ours = results.get('ours')?.[op];
      const peer = results.get('ts-mls')?.[op];
      records.push({
        operation: op,
        n,
        suite: SUITE,
        ours_ms: ours?.medianMs ?? null,
        peer_ms: peer?.medianMs ?? null,
        ratio: ours !== undefined && peer !== undefined ? peer.medianMs / ours.medianMs : null,
        ours_runs: ours?.reps ?? null,
        peer_runs: peer?.reps ?? null,
      });
    }
  }

  const fmt = (v: number | null): string => (v === null ? '-' : formatMs(v));
  const rows = [['operation', 'N', 'ours ms', 'ts-mls ms', 'ts-mls/ours']];
  for (const r of records) rows.push([r.operation, String(r.n), fmt(r.ours_ms), fmt(r.peer_ms), r.ratio === null ? '-' : `${r.ratio.toFixed(1)}×`]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(`\nMLS benchmark, cipher suite ${SUITE}${args.quick ? ' (quick)' : ''}, median ms\n`);
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));

  const targetN = args.sizes.includes(1024) ? 1024 : Math.max(...args.sizes);
  console.log(`\nTargets at N=${targetN}${targetN === 1024 ? '' : ' (targets are defined at N=1024; shown for reference)'}:`);
  let allMet = true;
  for (const [op, target] of Object.entries(TARGETS) as [Operation, number][]) {
    const r = records.find((x) => x.operation === op && x.n === targetN);
    const ratio = r?.ratio ?? null;
    const met = ratio !== null && ratio >= target;
    if (!met) allMet = false;
    console.log(`  ${op.padEnd(17)} ≥ ${String(target).padStart(3)}×: ${ratio === null ? 'not measured' : `${ratio.toFixed(1)}× ${met ? 'MET' : 'MISSED'}`}`);
  }
  if (targetN === 1024) console.log(allMet ? '\nAll targets met.' : '\nSome targets missed.');

  const file = join(RESULTS_DIR, 'mls.json');
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(records, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

await main();
