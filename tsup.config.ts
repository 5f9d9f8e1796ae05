import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    noble: 'src/adapters/noble/index.ts',
    bleno: 'src/adapters/bleno/index.ts',
    'react-native': 'src/adapters/react-native/index.ts',
    node: 'src/node/index.ts',
    'web-bluetooth': 'src/adapters/web-bluetooth/index.ts',
    cli: 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  treeshake: true,
  // Shared chunks: one copy of every class (errors!) across the entries, so instanceof holds.
  splitting: true,
});
