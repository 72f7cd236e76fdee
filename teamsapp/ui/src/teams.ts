// Microsoft Teams: the SDK (@microsoft/teams-js) is loaded only when the page is
// framed, so the page outside Teams (local mode, a browser) loads none of it.

export type TeamsTheme = "default" | "dark" | "contrast";

export interface TeamsContext {
  theme?: TeamsTheme;
  locale?: string;
  /** subPageId: the thread a deep link names (subEntityId in the link's context). */
  subPageId?: string;
  /** pageId: the tab's entityId ("multiline"). */
  pageId?: string;
}

type SDK = typeof import("@microsoft/teams-js");

let sdk: Promise<SDK | null> | null = null;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error("timeout")), ms))]);
}

/** load initializes the SDK once; null when the page is not hosted by Teams. */
function load(): Promise<SDK | null> {
  if (!sdk) {
    sdk = (async () => {
      if (window.parent === window) return null; // not framed: not in Teams
      try {
        const m = await import("@microsoft/teams-js");
        await withTimeout(m.app.initialize(), 5000);
        return m;
      } catch {
        return null;
      }
    })();
  }
  return sdk;
}

export const teams = {
  async inTeams(): Promise<boolean> {
    return (await load()) !== null;
  },
  async token(): Promise<string> {
    const m = await load();
    if (!m) throw new Error("not in Teams");
    // Teams caches the token and renews it when it is about to expire.
    return m.authentication.getAuthToken();
  },
  async context(): Promise<TeamsContext | null> {
    const m = await load();
    if (!m) return null;
    const c = await m.app.getContext();
    return { theme: c.app.theme as TeamsTheme, locale: c.app.locale, subPageId: c.page.subPageId, pageId: c.page.id };
  },
  async onThemeChange(handler: (t: TeamsTheme) => void): Promise<void> {
    const m = await load();
    m?.app.registerOnThemeChangeHandler((t) => handler(t as TeamsTheme));
  },
  /** notifySuccess tells Teams the tab has loaded (hides Teams' own spinner). */
  async loaded(): Promise<void> {
    const m = await load();
    m?.app.notifySuccess();
  },
};
