import { describe, expect, it } from 'vitest';
import {
  checkManifest,
  FIREFOX_HOST_PERMISSIONS,
  FIREFOX_OPTIONAL_HOST_PERMISSIONS,
  type ManifestLike,
} from '../../build/manifest-policy.ts';

const good: ManifestLike = {
  manifest_version: 3,
  content_security_policy: { extension_pages: "script-src 'self'; object-src 'self'" },
  externally_connectable: { ids: [], matches: [] },
  web_accessible_resources: [],
};

describe('manifest policy', () => {
  it('accepts the policy-conforming manifest', () => {
    expect(checkManifest(good)).toEqual([]);
  });

  it.each([
    ["script-src 'self' 'unsafe-eval'; object-src 'self'", 'unsafe-eval'],
    ["script-src 'self' 'wasm-unsafe-eval'", 'wasm-unsafe-eval'],
    ["script-src 'self' https://cdn.example.com", 'remote code'],
    ["script-src 'self' *", '*'],
    ["default-src 'self' http://evil.test", 'remote code'],
    ["object-src 'self'", 'restrict script-src'],
  ])('rejects CSP %s', (csp, why) => {
    const problems = checkManifest({ ...good, content_security_policy: { extension_pages: csp } });
    expect(problems.join('\n')).toContain(why);
  });

  it('requires an explicit extension_pages CSP', () => {
    expect(checkManifest({ ...good, content_security_policy: undefined })).toHaveLength(1);
  });

  it('requires externally_connectable with no ids and no matches', () => {
    expect(checkManifest({ ...good, externally_connectable: undefined })[0]).toContain('externally_connectable');
    expect(checkManifest({ ...good, externally_connectable: { ids: ['*'], matches: [] } })[0]).toContain('ids');
    expect(checkManifest({ ...good, externally_connectable: { ids: [], matches: ['https://*/*'] } })[0]).toContain('matches');
    expect(checkManifest({ ...good, externally_connectable: { matches: [] } })[0]).toContain('ids');
  });

  it('requires web_accessible_resources to be empty', () => {
    const problems = checkManifest({ ...good, web_accessible_resources: [{ resources: ['x.js'], matches: ['<all_urls>'] }] });
    expect(problems).toEqual(['web_accessible_resources must be empty']);
  });

  it('requires MV3', () => {
    expect(checkManifest({ ...good, manifest_version: 2 })[0]).toContain('manifest_version');
  });

  it('the Chrome build asks for no host permissions', () => {
    expect(checkManifest({ ...good, host_permissions: ['https://*/*'] })[0]).toContain('no host permissions');
  });
});

describe('manifest policy, Firefox build', () => {
  const { externally_connectable: _unsupported, ...base } = good;
  const firefox: ManifestLike = {
    ...base,
    browser_specific_settings: { gecko: { id: 'microchat@microchat.app' } },
    host_permissions: FIREFOX_HOST_PERMISSIONS,
    optional_host_permissions: FIREFOX_OPTIONAL_HOST_PERMISSIONS,
  };

  it('accepts the policy-conforming manifest', () => {
    expect(checkManifest(firefox, 'firefox')).toEqual([]);
  });

  it('requires a pinned gecko id', () => {
    expect(checkManifest({ ...firefox, browser_specific_settings: undefined }, 'firefox')[0]).toContain('gecko.id');
    expect(checkManifest({ ...firefox, browser_specific_settings: { gecko: { id: '' } } }, 'firefox')[0]).toContain('gecko.id');
  });

  it('leaves out externally_connectable, which Firefox does not implement', () => {
    expect(checkManifest({ ...firefox, externally_connectable: { ids: [], matches: [] } }, 'firefox')[0]).toContain('not supported');
  });

  it('grants only a relay on this machine up front, and may ask only for https origins', () => {
    expect(checkManifest({ ...firefox, host_permissions: ['<all_urls>'] }, 'firefox')[0]).toContain('host_permissions');
    expect(checkManifest({ ...firefox, optional_host_permissions: ['<all_urls>'] }, 'firefox')[0]).toContain('optional_host_permissions');
    expect(checkManifest({ ...firefox, optional_host_permissions: ['http://*/*'] }, 'firefox')[0]).toContain('optional_host_permissions');
  });
});
