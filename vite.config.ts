import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

/**
 * The web dashboard (web/): built by `npm run build` into dist/dashboard, which the manager serves
 * at `/`. `npx vite --config vite.config.ts` serves it for development, with the API proxied to a
 * manager on the default port.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [vue()],
  build: { outDir: '../dist/dashboard', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  server: { proxy: { '/api': 'http://127.0.0.1:7780' } },
});
