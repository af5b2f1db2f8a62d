/**
 * The layer rule and the cycle check that `npm test` runs (`npm run deps`).
 *
 * The layers, lowest first; each imports only from those below it
 * (docs/architecture.md draws the same picture):
 *
 *   lib/bytes.ts     byte strings, for every layer (the relay too)
 *   lib/crypto/      primitives and cipher suites
 *   lib/mls/         the MLS engine (codec/ tree/ keys/ framing/ group/ join/)
 *   lib/content/     the MIMI content codec (CBOR, message ids), beside the engine
 *   lib/protocol/    the wire contracts: channel.ts (views <-> background), relay.ts (extension <-> relay)
 *   lib/platform/    small browser-API wrappers, used by the background and the views alike
 *   lib/background/  what the background worker runs      entrypoints/background.ts wires it up
 *   lib/view/        view logic for the Svelte views       components/, entrypoints/{popup,sidepanel}/
 *   build/           the build-time manifest policy (wxt.config.ts)
 *   relay/           the Deno relay: lib/bytes.ts, lib/protocol/relay*.ts and lib/crypto only
 *
 * Type-only imports count (`tsPreCompilationDeps`): a type from a higher layer
 * couples the code as surely as a value does. One blind spot: the Svelte
 * compiler drops `import type` from a .svelte file before we see it, so for
 * components only value imports are checked.
 */

/** Each rule names what it forbids; `comment` says why, and is what a failing run prints. */
const LAYERS = [
  {
    name: 'bytes-imports-nothing-from-lib',
    comment: 'lib/bytes.ts is the bottom layer: it imports nothing else from lib/.',
    from: { path: '^lib/bytes\\.ts$' },
    to: { path: '^lib/', pathNot: '^lib/bytes\\.ts$' },
  },
  {
    name: 'crypto-imports-only-bytes',
    comment: 'lib/crypto sits right above lib/bytes.ts: it has its own errors and imports nothing else from lib/.',
    from: { path: '^lib/crypto/' },
    to: { path: '^lib/', pathNot: ['^lib/bytes\\.ts$', '^lib/crypto/'] },
  },
  {
    name: 'mls-imports-only-crypto-and-bytes',
    comment: 'The MLS engine builds on lib/crypto and lib/bytes.ts only; it knows nothing of the extension or the relay.',
    from: { path: '^lib/mls/' },
    to: { path: '^lib/', pathNot: ['^lib/bytes\\.ts$', '^lib/crypto/', '^lib/mls/'] },
  },
  {
    name: 'content-imports-only-crypto-and-bytes',
    comment:
      'lib/content is the MIMI content codec (draft-ietf-mimi-content): CBOR and message ids over lib/crypto and ' +
      'lib/bytes.ts only, so it knows nothing of MLS, the background or the views.',
    from: { path: '^lib/content/' },
    to: { path: '^lib/', pathNot: ['^lib/bytes\\.ts$', '^lib/crypto/', '^lib/content/'] },
  },
  {
    name: 'protocol-imports-only-bytes',
    comment:
      'lib/protocol holds the wire contracts: plain data types and validators over lib/bytes.ts, so both ends ' +
      '(the relay too) import them without pulling in the engine, the background or the views.',
    from: { path: '^lib/protocol/' },
    to: { path: '^lib/', pathNot: ['^lib/bytes\\.ts$', '^lib/protocol/'] },
  },
  {
    name: 'platform-not-to-background-view-or-engine',
    comment: 'lib/platform wraps browser APIs for the background and the views alike, so it depends on neither (nor on the engine).',
    from: { path: '^lib/platform/' },
    to: { path: ['^lib/background/', '^lib/view/', '^lib/mls/'] },
  },
  {
    name: 'background-not-to-views',
    comment: 'The background worker does not import view code: the views talk to it through lib/protocol/channel.ts.',
    from: { path: ['^lib/background/', '^entrypoints/background\\.ts$'] },
    to: { path: ['^lib/view/', '^components/', '^entrypoints/(popup|sidepanel)/'] },
  },
  {
    name: 'views-not-to-background-or-engine',
    comment:
      'The views (lib/view, components, popup, side panel) hold no keys and no group state: they reach the ' +
      'background through the channel contract (lib/protocol/channel.ts), never by importing it, the MLS engine ' +
      'or the crypto.',
    from: { path: ['^lib/view/', '^components/', '^entrypoints/(popup|sidepanel)/'] },
    to: { path: ['^lib/background/', '^lib/mls/', '^lib/crypto/'] },
  },
  {
    name: 'lib-and-components-not-to-entrypoints',
    comment: 'The entry points use lib/ and components/, and components/ use lib/view: never the other way round.',
    from: { path: ['^lib/', '^components/'] },
    to: { path: ['^entrypoints/'] },
  },
  {
    name: 'lib-not-to-components',
    comment: 'lib/ is the logic the Svelte components use; it does not import them.',
    from: { path: '^lib/' },
    to: { path: '^components/' },
  },
  {
    name: 'extension-not-to-build-or-tests',
    comment:
      'lib/, components/ and entrypoints/ are what ships: they do not import the build-time policy (build/, run ' +
      'by wxt.config.ts) or the tests.',
    from: { path: ['^lib/', '^components/', '^entrypoints/'] },
    to: { path: ['^build/', '^tests/'] },
  },
  {
    name: 'extension-not-to-relay',
    comment: 'The extension talks to the relay over the network, typed by lib/protocol/relay.ts; it never imports relay/.',
    from: { path: ['^lib/', '^components/', '^entrypoints/', '^build/'] },
    to: { path: '^relay/' },
  },
  {
    name: 'relay-only-bytes-protocol-crypto',
    comment:
      'The relay is a separate program (Deno): from lib/ it may use lib/bytes.ts, the relay contract ' +
      '(lib/protocol/relay*.ts) and lib/crypto (the VOPRF); nothing from the engine, the background, the views ' +
      'or the view channel.',
    from: { path: '^relay/' },
    to: {
      path: ['^lib/', '^components/', '^entrypoints/', '^build/', '^tests/'],
      pathNot: ['^lib/bytes\\.ts$', '^lib/protocol/relay', '^lib/crypto/'],
    },
  },
  {
    name: 'nothing-shipped-imports-core-crypto',
    comment:
      '@wireapp/core-crypto (OpenMLS, GPL-3.0) is a devDependency for the interop tests and benchmarks only ' +
      '(tests/, bench/): the extension, the relay and the build never import it, so it never ships ' +
      '(tests/build/bundles-without-core-crypto.browser.test.ts checks the built bundles too).',
    from: { path: ['^lib/', '^components/', '^entrypoints/', '^build/', '^relay/'] },
    to: { path: 'node_modules/@wireapp/core-crypto' },
  },
  {
    name: 'build-not-to-extension-runtime',
    comment:
      'The build-time manifest policy runs in wxt.config.ts under Node: it may share plain constants and types ' +
      '(lib/bytes.ts, lib/protocol, lib/platform) but not the background, the views or the engine.',
    from: { path: '^build/' },
    to: {
      path: ['^lib/', '^components/', '^entrypoints/', '^tests/'],
      pathNot: ['^lib/bytes\\.ts$', '^lib/protocol/', '^lib/platform/'],
    },
  },
];

module.exports = {
  forbidden: [
    ...LAYERS.map((rule) => ({ severity: 'error', ...rule })),
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make the order of module initialisation matter and blur which module owns what.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import the checker cannot resolve is an import it cannot check (a typo, or an alias it does not know).',
      from: { path: ['^lib/', '^components/', '^entrypoints/', '^build/', '^relay/'] },
      to: {
        couldNotResolve: true,
        // svelte/internal/*: imports the Svelte compiler adds to a component, not ours.
        // node:*: built-ins newer than the Node that runs the check (node:sqlite on Node 20; the relay runs on Deno).
        pathNot: ['^svelte/internal/', '^node:'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    // The `@/` alias. Not `tsConfig: tsconfig.json`: the alias comes from .wxt/tsconfig.json, which the resolver
    // misreads (see the header of .dependency-cruiser-aliases.cjs), and nothing else in tsconfig.json changes
    // what is found (checked: the same 865 dependencies with it and without).
    webpackConfig: { fileName: '.dependency-cruiser-aliases.cjs' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
