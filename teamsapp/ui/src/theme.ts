// Teams' three themes: followed from the Teams context and its theme-change
// handler inside Teams, from the system (prefers-color-scheme, forced-colors)
// outside. ?theme=default|dark|contrast picks one (screenshots, tests).

import { teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme, type Theme } from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { teams, type TeamsTheme } from "./teams";

export const themes: Record<TeamsTheme, Theme> = {
  default: teamsLightTheme,
  dark: teamsDarkTheme,
  contrast: teamsHighContrastTheme,
};

function asTheme(s: string | null | undefined): TeamsTheme | null {
  return s === "default" || s === "dark" || s === "contrast" ? s : s === "light" ? "default" : null;
}

/** systemTheme is the page's theme outside Teams. */
export function systemTheme(mq: (q: string) => boolean = (q) => window.matchMedia(q).matches): TeamsTheme {
  if (mq("(forced-colors: active)")) return "contrast";
  return mq("(prefers-color-scheme: dark)") ? "dark" : "default";
}

/** useTeamsTheme returns the theme to render with, and follows its changes. */
export function useTeamsTheme(): TeamsTheme {
  const forced = asTheme(new URLSearchParams(location.search).get("theme"));
  const [theme, setTheme] = useState<TeamsTheme>(forced || systemTheme());
  useEffect(() => {
    if (forced) return;
    let inTeams = false;
    const follow = () => {
      if (!inTeams) setTheme(systemTheme());
    };
    const queries = ["(prefers-color-scheme: dark)", "(forced-colors: active)"].map((q) => window.matchMedia(q));
    queries.forEach((q) => q.addEventListener("change", follow));
    void teams.context().then((c) => {
      if (!c) return;
      inTeams = true;
      setTheme(asTheme(c.theme) || "default");
      void teams.onThemeChange((t) => setTheme(asTheme(t) || "default"));
    });
    return () => queries.forEach((q) => q.removeEventListener("change", follow));
  }, [forced]);
  return theme;
}
