/**
 * The `@/` import alias (repo root), as a webpack-style resolve block for
 * dependency-cruiser (`webpackConfig` in .dependency-cruiser.cjs).
 *
 * Why not tsconfig.json's `paths`: ours come from .wxt/tsconfig.json
 * (`"@/*": ["../*"]`, relative to .wxt/), and the resolver dependency-cruiser
 * uses for tsconfig paths reads them relative to the project root instead when
 * no `baseUrl` is set, so every `@/` import came out unresolved. Nothing
 * else reads this file.
 */
module.exports = { resolve: { alias: { '@': __dirname } } };
