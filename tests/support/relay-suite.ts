/**
 * One real relay process for a describe block, and the devices to stop after
 * it: registers the block's beforeAll (start the relay) and afterAll (stop
 * every kept device, then the relay), so a test file says only what differs.
 * Used by the healing and resync tests (tests/integration/heal-*.test.ts,
 * tests/security/removed-member-cannot-resync.test.ts, relay-forces-rejoin).
 */
import { afterAll, beforeAll } from 'vitest';
import type { Device } from '../integration/support/device.ts';
import { startRelay, type RelayProcess, type StartRelayOptions } from './relay-process.ts';

export interface RelaySuite {
  /** The running relay (after beforeAll). */
  readonly relay: RelayProcess;
  /** Stop these devices after the block. */
  keep<D extends Device[]>(...devices: D): D;
}

export function relaySuite(opts: StartRelayOptions = {}): RelaySuite {
  let relay: RelayProcess | undefined;
  const devices: Device[] = [];
  beforeAll(async () => {
    relay = await startRelay(opts);
  }, 60_000);
  afterAll(async () => {
    for (const d of devices) d.app.stop();
    await relay?.stop();
  });
  return {
    get relay(): RelayProcess {
      if (relay === undefined) throw new Error('the relay starts in beforeAll');
      return relay;
    },
    keep: (...d) => {
      devices.push(...d);
      return d;
    },
  };
}
