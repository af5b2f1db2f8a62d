/**
 * The runtime floor for `npm run bench:relay`: a bare WebSocket broadcast on
 * Deno's own server (Deno.serve + upgradeWebSocket), the stack the relay runs
 * on, doing exactly what the `ws` baseline does: every frame it receives goes
 * to every open socket. No storage, no tokens, no parsing. Run by
 * bench/relay.ts with `deno run --allow-net bench/deno-broadcast.ts`.
 */
/** The part of the Deno namespace used here (the repo type-checks with tsc, not deno). */
interface DenoApi {
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: (req: Request) => Response): unknown;
  upgradeWebSocket(req: Request): { socket: WebSocket; response: Response };
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const sockets = new Set<WebSocket>();
Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`baseline listening on ${port}`) },
  (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => sockets.add(socket);
    socket.onclose = () => sockets.delete(socket);
    socket.onmessage = (ev: MessageEvent) => {
      for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.send(ev.data);
    };
    return response;
  },
);
