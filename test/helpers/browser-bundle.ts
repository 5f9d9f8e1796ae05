/** esbuild's browser bundle of some proxkey source, in memory, for tests about what a bundle holds. */
import { build, type BuildResult } from 'esbuild';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Minified ESM for `platform: 'browser'` of `entry` (a path) or of `{ contents }` (TS source relative to the repo root), with its metafile. */
export async function browserBundle(entry: string | { readonly contents: string }): Promise<BuildResult<{ write: false; metafile: true }>> {
  return build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts' as const } }),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}
