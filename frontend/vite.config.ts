/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The production build goes to dist/, which the FastAPI app serves at "/".
// In development, `npm run dev` proxies the API to a local `bounty demo`.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    // React, the router, TanStack Query and Markdown: about 160 kB gzipped; charts and the
    // organizer pages are separate chunks loaded on demand.
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
