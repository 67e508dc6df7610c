// Builds the console into dist/ (served by nginx in production, by jmp-socket
// in development). `npm run dev -w services/web` serves it with a proxy:
// JMP_WEB_BACKEND names the jmp-socket (or nginx) that answers /v1 and /socket.io.
import { defineConfig } from 'vite';

const backend = process.env.JMP_WEB_BACKEND ?? 'http://127.0.0.1:8081';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      '/v1': { target: backend, changeOrigin: false },
      '/socket.io': { target: backend, ws: true, changeOrigin: false },
    },
  },
});
