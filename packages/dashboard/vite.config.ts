// Builds the dashboard into dist/, which the backend serves under `/`. Everything is bundled: no
// CDN, clusters are often offline.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  // JSX for Preact through Vite's own esbuild; no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: {
    alias: {
      // @kritik/core's review ids hash with node:crypto; the dashboard never derives one.
      'node:crypto': fileURLToPath(new URL('./src/node-crypto.ts', import.meta.url)),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
