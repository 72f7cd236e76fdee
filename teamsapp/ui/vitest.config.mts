import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "jsdom",
    setupFiles: ["teamsapp/ui/test/setup.ts"],
    include: ["teamsapp/ui/test/**/*.test.{ts,tsx}"],
    root: new URL("../..", import.meta.url).pathname,
    testTimeout: 15000,
  },
});
