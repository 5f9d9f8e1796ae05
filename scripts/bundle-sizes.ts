/**
 * Browser bundle sizes of the package entries, and of `VehicleSession` alone: each bundled by esbuild
 * for the browser (ESM, minified, tree-shaken, `@noble/*` included, optional peers external), then
 * gzipped (level 9). What an app's bundler adds to a web or React Native app for that import.
 *
 * Usage: `npx tsx scripts/bundle-sizes.ts [--json]`. Read-only; prints to stdout.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** One measured import: its name, the module text bundled, and where it resolves from. */
interface Measured {
  readonly name: string;
  readonly source: string;
}

const MEASURED: readonly Measured[] = [
  { name: 'proxkey (.)', source: "export * from './src/index.ts';" },
  { name: 'proxkey/web-bluetooth', source: "export * from './src/adapters/web-bluetooth/index.ts';" },
  { name: 'proxkey/react-native', source: "export * from './src/adapters/react-native/index.ts';" },
  { name: 'VehicleSession alone', source: "export { VehicleSession } from './src/index.ts';" },
  { name: 'PhoneSession alone', source: "export { PhoneSession } from './src/index.ts';" },
];

/** Minified and gzipped byte counts of one bundle. */
export interface BundleSize {
  readonly name: string;
  readonly minified: number;
  readonly gzipped: number;
}

async function bundleSize({ name, source }: Measured): Promise<BundleSize> {
  const result = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'measure.ts' },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['react-native-ble-plx', '@stoprocent/*', '@abandonware/*'],
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array(0);
  return { name, minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength };
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

async function main(args: readonly string[]): Promise<void> {
  const sizes: BundleSize[] = [];
  for (const measured of MEASURED) sizes.push(await bundleSize(measured));
  if (args.includes('--json')) {
    console.log(JSON.stringify(sizes, null, 2));
    return;
  }
  console.log('Browser bundle (esbuild, ESM, minified; gzip -9):');
  for (const s of sizes)
    console.log(`  ${s.name.padEnd(24)} ${kb(s.minified).padStart(10)} min   ${kb(s.gzipped).padStart(9)} gzip   (${s.minified} / ${s.gzipped} B)`);
}

await main(process.argv.slice(2));
