/**
 * Official passive-client-welcome vectors: a passive member joins by Welcome and follows every
 * epoch (README-upstream "Passive Client Scenarios"), every case, every suite.
 */
import { describe, it } from 'vitest';
import { loadCases, runPassiveClient } from './passive-client-runner.ts';

const cases = loadCases('passive-client-welcome.json');

describe('passive-client-welcome vectors', () => {
  cases.forEach((c, i) => {
    it(`suite ${c.cipher_suite} case ${i}`, () => runPassiveClient(c));
  });
});
