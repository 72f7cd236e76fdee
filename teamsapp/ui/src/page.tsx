// The standalone pages' mount (admin, compliance review): the tab's theme, the
// page's CSP nonce for Fluent's styles, English (these pages are for staff roles).
import { createDOMRenderer, FluentProvider, makeStaticStyles, RendererProvider } from "@fluentui/react-components";
import { StrictMode, type ReactNode } from "react";
import { createRoot } from "react-dom/client";
import { setLang } from "./i18n";
import { themes, useTeamsTheme } from "./theme";

const useGlobal = makeStaticStyles({ "html, body": { margin: 0, padding: 0 } });

function Root({ children }: { children: ReactNode }) {
  useGlobal();
  const theme = useTeamsTheme();
  return (
    <FluentProvider theme={themes[theme]} data-theme={theme}>
      {children}
    </FluentProvider>
  );
}

/** mountPage renders page into #root. */
export function mountPage(page: ReactNode) {
  const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content || undefined;
  const renderer = createDOMRenderer(document, { styleElementAttributes: nonce ? { nonce } : undefined });
  setLang("en");
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <RendererProvider renderer={renderer} targetDocument={document}>
        <Root>{page}</Root>
      </RendererProvider>
    </StrictMode>,
  );
}
