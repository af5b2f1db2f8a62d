/**
 * The removed-member scenario as the fixture of a describe block: started
 * once before its tests (then `setup`, for what the block adds to it), and
 * stopped after them, even when `setup` failed.
 *
 *   describe('a member …', () => {
 *     const s = withScenario();
 *     it('…', async () => { await s.removeMallory(); … });
 *   });
 *
 * What it answers stands for the started scenario from the first hook on;
 * reading it while the tests are collected (before any hook ran) throws.
 */
import { afterAll, beforeAll } from 'vitest';
import { removedMemberScenario, type Scenario, type ScenarioOptions } from './removed-member-scenario.ts';
import { SLOW } from './rich-attack.ts';

export interface FixtureOptions extends ScenarioOptions {
  /** Runs once the scenario is up, inside the same hook (and its timeout); the fixture answers the scenario already. */
  setup?: () => Promise<void>;
  /** For the start and `setup` together (ms); three devices and a relay take a while on a busy machine. */
  timeout?: number;
}

export function withScenario(opts: FixtureOptions = {}): Scenario {
  let started: Scenario | undefined;
  beforeAll(async () => {
    started = await removedMemberScenario(opts);
    await opts.setup?.();
  }, opts.timeout ?? 120_000 * SLOW);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as Scenario, {
    get(_, key) {
      if (started === undefined) throw new Error(`the removed-member scenario is read (${String(key)}) before it started`);
      return Reflect.get(started, key) as unknown;
    },
  });
}
