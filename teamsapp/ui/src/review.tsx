// The compliance review page's entry, in the tab's theme.
import { createDOMRenderer, FluentProvider, makeStaticStyles, RendererProvider } from "@fluentui/react-components";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Review } from "./ReviewPage";
import { setLang } from "./i18n";
import { themes, useTeamsTheme } from "./theme";

const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content || undefined;
const renderer = createDOMRenderer(document, { styleElementAttributes: nonce ? { nonce } : undefined });
const useGlobal = makeStaticStyles({ "html, body": { margin: 0, padding: 0 } });

function Root() {
  useGlobal();
  const theme = useTeamsTheme();
  return (
    <FluentProvider theme={themes[theme]} data-theme={theme}>
      <Review />
    </FluentProvider>
  );
}

setLang("en");
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <RendererProvider renderer={renderer} targetDocument={document}>
      <Root />
    </RendererProvider>
  </StrictMode>,
);
