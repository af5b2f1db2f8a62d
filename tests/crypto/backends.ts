// The crypto backends the tests compare, by the names the tests use: 'auto' is
// the runtime's default (Node's under Node), 'webcrypto' the browser's path,
// 'noble' the pure-JS reference.
import type { Primitives } from '../../lib/crypto/primitives.ts';
import { noblePrimitives } from '../../lib/crypto/noble.ts';
import { defaultPrimitives } from '../../lib/crypto/suites.ts';
import { webCryptoPrimitives } from '../../lib/crypto/webcrypto.ts';

export type BackendName = 'auto' | 'webcrypto' | 'noble';

export const BACKENDS: Record<BackendName, Primitives> = {
  auto: defaultPrimitives(),
  webcrypto: webCryptoPrimitives(),
  noble: noblePrimitives,
};
