// Relay configuration: defaults, env (RELAY_*), flags overriding env, strict parsing.
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from '../../relay/config.ts';

describe('relay config', () => {
  it('has the issue defaults: 16 KiB frames, 30 msg/s, 30-day TTL, RP ID localhost on loopback', () => {
    const c = loadConfig({}, []);
    expect(c.maxFrameBytes).toBe(16 * 1024);
    expect(c.maxMessagesPerSecond).toBe(30);
    expect(c.messageTtlSeconds).toBe(30 * 24 * 3600);
    expect(c.rpId).toBe('localhost');
    expect(c.host).toBe(DEFAULT_CONFIG.host);
  });

  it('reads env vars and lets flags override them', () => {
    const env = { RELAY_PORT: '9000', RELAY_DATA_DIR: '/env', RELAY_ORIGINS: 'https://a.example, https://b.example', RELAY_MESSAGE_TTL_SECONDS: '60' };
    const fromEnv = loadConfig(env, []);
    expect(fromEnv.port).toBe(9000);
    expect(fromEnv.dataDir).toBe('/env');
    expect(fromEnv.origins).toEqual(['https://a.example', 'https://b.example']);
    expect(fromEnv.messageTtlSeconds).toBe(60);
    const c = loadConfig(env, ['--port', '0', '--data-dir=/flag', '--origin', 'chrome-extension://x', '--origin', 'moz-extension://y']);
    expect(c.port).toBe(0);
    expect(c.dataDir).toBe('/flag');
    expect(c.origins).toEqual(['chrome-extension://x', 'moz-extension://y']);
    expect(loadConfig({}, ['--host', 'relay.example.org']).rpId).toBe('relay.example.org');
  });

  it('rejects unknown settings, bad numbers and missing values', () => {
    expect(() => loadConfig({}, ['--nope', '1'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--port', '-1'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--port', '70000'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--max-frame-bytes', 'lots'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--port'])).toThrow(ConfigError);
    expect(() => loadConfig({ RELAY_PORT: '1.5' }, [])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['stray'])).toThrow(ConfigError);
  });

  it('serves no metrics unless a port is given; loopback by default; never on the public port', () => {
    const c = loadConfig({}, []);
    expect(c.metricsPort).toBe(0);
    expect(c.metricsHost).toBe('127.0.0.1');
    expect(c.busMaxBacklog).toBe(5_000);
    const on = loadConfig({ RELAY_METRICS_PORT: '9464' }, ['--bus-max-backlog', '10']);
    expect(on.metricsPort).toBe(9464);
    expect(on.busMaxBacklog).toBe(10);
    expect(loadConfig({}, ['--metrics-host', '10.0.0.5', '--metrics-port', '9464']).metricsHost).toBe('10.0.0.5');
    expect(() => loadConfig({}, ['--port', '9464', '--metrics-port', '9464'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--metrics-port', '70000'])).toThrow(ConfigError);
  });
});
