// The person.verify / person.unverify requests: exactly their shape, a person
// key that is an identity key or 'leaf:' + member id, nothing else.
import { describe, expect, it } from 'vitest';
import { CHANNEL, parseRequest } from '../../../lib/protocol/channel.ts';

const req = (method: string, params: unknown) => parseRequest({ channel: CHANNEL, method, params });
const KEY = 'A'.repeat(43);

describe('person requests', () => {
  it.each(['person.verify', 'person.unverify'])('%s takes a conversation and a person key', (method) => {
    expect(req(method, { conversationId: 'c1', personKey: KEY }).params).toEqual({ conversationId: 'c1', personKey: KEY });
    expect(req(method, { conversationId: 'c1', personKey: 'leaf:m_1' }).params).toEqual({ conversationId: 'c1', personKey: 'leaf:m_1' });
    for (const bad of [{ conversationId: 'c1' }, { conversationId: 'c1', personKey: KEY, extra: 1 }, { conversationId: 'c1', personKey: 'leaf:' }, { conversationId: 'c1', personKey: 'x/y' }, { conversationId: 'c1', personKey: 7 }]) {
      expect(() => req(method, bad)).toThrowError(expect.objectContaining({ code: 'bad-request' }));
    }
    expect(() => req(method, { conversationId: 'c1', personKey: 'a'.repeat(161) })).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
  });
});
