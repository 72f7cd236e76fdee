import { configure } from "@testing-library/react";

// A loaded machine (make test runs suites side by side) is slow to render Fluent UI.
configure({ asyncUtilTimeout: 5000 });

// jsdom lacks matchMedia, ResizeObserver and scrolling; the tab uses them.
const queries: Record<string, boolean> = {};
export function setMedia(q: string, v: boolean) {
  queries[q] = v;
}
window.matchMedia = ((q: string) => ({
  matches: !!queries[q],
  media: q,
  onchange: null,
  addEventListener() {},
  removeEventListener() {},
  addListener() {},
  removeListener() {},
  dispatchEvent: () => false,
})) as unknown as typeof window.matchMedia;
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as unknown as { ResizeObserver: typeof RO }).ResizeObserver = RO;
Element.prototype.scrollTo = function () {};
class ES {
  addEventListener() {}
  close() {}
  onerror: unknown = null;
}
(globalThis as unknown as { EventSource: typeof ES }).EventSource = ES;
