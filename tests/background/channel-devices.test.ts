/** Our own devices' channel methods (lib/protocol/devices.ts): parameters checked strictly at the boundary. */
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';
import { randomBytes, toB64 } from '../../lib/bytes.ts';

const req = (method: string, params: unknown) => parseRequest({ channel: CHANNEL, method, params });

describe('devices channel methods', () => {
  it('accept well-formed requests', () => {
    const deviceKey = toB64(randomBytes(32));
    expect(req('devices.list', null).params).toBeNull();
    expect(req('devices.remove', { deviceKey }).params).toEqual({ deviceKey });
  });

  it.each([
    ['devices.list with parameters', 'devices.list', {}],
    ['no device key', 'devices.remove', {}],
    ['an extra field', 'devices.remove', { deviceKey: toB64(randomBytes(32)), everywhere: true }],
    ['a key of 16 bytes', 'devices.remove', { deviceKey: toB64(randomBytes(16)) }],
    ['a key that is not base64url', 'devices.remove', { deviceKey: '+'.repeat(43) }],
    ['a key that is not a string', 'devices.remove', { deviceKey: 7 }],
    ['parameters that are not an object', 'devices.remove', 'x'],
  ])('refuse %s', (_name, method, params) => {
    expect(() => req(method, params)).toThrow();
  });
});
