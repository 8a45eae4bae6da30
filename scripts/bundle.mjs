/**
 * `npm run build`'s bundle: the published runtime is dist/, built here with esbuild from src/ (no runtime
 * dependencies: the SDK, zod, commander and the NATS client are inside). A module file costs Node's ESM
 * loader more than its bytes do, so the two commands a client starts over and over are one file each:
 *
 *   claude-relay.js  the `bin`: picks serve.js or hook.js for their plain arguments, else cli.js
 *   serve.js         `serve` whole (the MCP SDK, the store, the remote link)
 *   hook.js          `hook` whole
 *   cli.js           commander and every other command, each a chunk of its own under chunks/, loaded when
 *                    it runs (the NATS client only by `relay --backend nats`)
 *
 * The dashboard's page script is compiled for the browser and inlined, so nothing needs files beside it.
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

const page = await build({
  entryPoints: ['src/dashboard/page/app.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  logLevel: 'warning',
});

/** The modules that are files of their own in dist/: an import of one from another bundle stays an import. */
const SEPARATE = {
  'src/cli/commands/serve.ts': './serve.js',
  'src/cli/commands/hook.ts': './hook.js',
  'src/cli/program.ts': './cli.js',
};

function separate(self) {
  return {
    name: 'separate-bundles',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const found = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'inner',
        });
        const rel = found.path.slice(process.cwd().length + 1);
        const file = SEPARATE[rel];
        return file === undefined || rel === self ? found : { path: file, external: true };
      });
    },
  };
}

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundled CommonJS packages (commander, write-file-atomic, ajv) use require and __filename.
  banner: {
    js: [
      "import { createRequire as __relayRequire } from 'node:module';",
      "import { fileURLToPath as __relayPath } from 'node:url';",
      'const require = __relayRequire(import.meta.url);',
      'const __filename = __relayPath(import.meta.url);',
    ].join(' '),
  },
  define: { RELAY_PAGE_SCRIPT: JSON.stringify(page.outputFiles[0].text) },
  // Maps for coverage of the tests' child processes (c8 maps the bundle back to src/); the package leaves
  // them out (package.json `files`), as their sources are not shipped.
  sourcemap: 'linked',
  sourcesContent: false,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};

await rm('dist', { recursive: true, force: true });
const single = (entry, out) =>
  build({ ...common, entryPoints: [entry], outfile: `dist/${out}`, plugins: [separate(entry)] });
await Promise.all([
  single('src/cli/main.ts', 'claude-relay.js'),
  single('src/cli/commands/serve.ts', 'serve.js'),
  single('src/cli/commands/hook.ts', 'hook.js'),
  build({
    ...common,
    entryPoints: { cli: 'src/cli/program.ts' },
    outdir: 'dist',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    plugins: [separate('src/cli/program.ts')],
  }),
]);
