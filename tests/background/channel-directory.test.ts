/** The directory's channel methods: parameters checked at the boundary (the background checks the addresses again). */
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseRequest } from '../../lib/protocol/channel.ts';
import { randomId } from '../../lib/bytes.ts';

const device = () => ({ accountId: randomId(), welcomeMailboxId: randomId() });
const req = (method: string, params: unknown) => parseRequest({ channel: CHANNEL, method, params });

describe('directory channel methods', () => {
  it('accept well-formed requests', () => {
    const d = device();
    expect(req('device.address', {}).params).toEqual({});
    expect(req('conversation.addDevices', { conversationId: 'c1', devices: [d] }).params).toEqual({ conversationId: 'c1', devices: [d] });
    expect(req('conversation.startDirect', { devices: [d], name: 'Us' }).params).toEqual({ devices: [d], name: 'Us' });
  });

  it.each([
    ['device.address with a parameter', 'device.address', { x: 1 }],
    ['device.address without an object', 'device.address', null],
    ['no devices', 'conversation.addDevices', { conversationId: 'c1', devices: [] }],
    ['devices not a list', 'conversation.addDevices', { conversationId: 'c1', devices: device() }],
    ['too many devices', 'conversation.addDevices', { conversationId: 'c1', devices: Array.from({ length: 51 }, device) }],
    ['a device with an extra field', 'conversation.addDevices', { conversationId: 'c1', devices: [{ ...device(), name: 'x' }] }],
    ['a device id that is not a relay id', 'conversation.addDevices', { conversationId: 'c1', devices: [{ ...device(), accountId: 'short' }] }],
    ['a device that is a string', 'conversation.startDirect', { devices: ['x'], name: 'Us' }],
    ['a missing name', 'conversation.startDirect', { devices: [device()] }],
  ])('refuse %s', (_, method, params) => {
    expect(() => req(method, params)).toThrow();
  });
});
