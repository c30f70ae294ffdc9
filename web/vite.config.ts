// Two entries: the single-page app (index.html) and GraphiQL (graphiql.html), built into the Python
// package so that `portal serve` serves them; assets under the absolute /assets/ prefix, so deep paths
// such as /portal/demo/documents/<id> load them too.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const server = process.env.PORTAL_URL ?? "http://127.0.0.1:8000";

// GraphiQL's stylesheet carries its fonts as data: URLs, which the self-only CSP refuses (font-src 'self'):
// write each one out as a file, so that Vite emits it as a hashed asset served from /assets/.
const DATA_FONT = /url\((["']?)data:font\/(woff2?|ttf|otf);base64,([A-Za-z0-9+/=]+)\1\)/g;
function fontsAsFiles(): Plugin {
  const folder = here("node_modules/.data-fonts");
  return {
    name: "portal-fonts-as-files",
    enforce: "pre",
    transform(code, id) {
      if (!id.endsWith(".css") || !code.includes("data:font/")) return null;
      mkdirSync(folder, { recursive: true });
      return code.replace(DATA_FONT, (_match, _quote, type: string, base64: string) => {
        const file = `${folder}/${createHash("sha256").update(base64).digest("hex").slice(0, 16)}.${type}`;
        writeFileSync(file, Buffer.from(base64, "base64"));
        return `url("${relative(dirname(id.split("?")[0]!), file)}")`;
      });
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [fontsAsFiles()],
  build: {
    outDir: here("../portal/web/client"),
    emptyOutDir: true,
    assetsDir: "assets",
    // Everything is a file: no data: URLs or inline code, as the self-only Content-Security-Policy requires.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { index: here("index.html"), graphiql: here("graphiql.html") },
      // GraphiQL's React packages mark themselves "use client", which means nothing outside a server framework.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  preview: { port: 5173 },
  server: {
    // Development only: `npm run dev` proxies the API to a running `portal serve`.
    proxy: {
      "/graphql": { target: server, ws: true },
      "/sandbox-gateway": server,
      "/pdf": server,
    },
  },
});
