// The MultiLine tab's entry: the Griffel renderer with the page's CSP nonce,
// Teams' theme, the language, and the app.
import { createDOMRenderer, FluentProvider, makeStaticStyles, makeStyles, RendererProvider } from "@fluentui/react-components";
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { langOf, setLang } from "./i18n";
import { teams } from "./teams";
import { themes, useTeamsTheme } from "./theme";

const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content || undefined;
const renderer = createDOMRenderer(document, { styleElementAttributes: nonce ? { nonce } : undefined });

const useRootClass = makeStyles({ root: { height: "100%" } });
const useGlobal = makeStaticStyles({ "html, body": { margin: 0, padding: 0, height: "100%" }, "#root": { height: "100%" } });

function Root() {
  useGlobal();
  const theme = useTeamsTheme();
  useEffect(() => {
    // Time to first render, for the browser tests' report.
    const w = window as unknown as { __firstRender?: number };
    w.__firstRender ??= performance.now();
  }, []);
  return (
    <FluentProvider theme={themes[theme]} className={useRootClass().root} data-theme={theme}>
      <App deepLink={async () => (await teams.context())?.subPageId} />
    </FluentProvider>
  );
}

async function start() {
  const ctx = await teams.context();
  setLang(langOf(ctx?.locale || navigator.language));
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <RendererProvider renderer={renderer} targetDocument={document}>
        <Root />
      </RendererProvider>
    </StrictMode>,
  );
  void teams.loaded();
}

void start();
