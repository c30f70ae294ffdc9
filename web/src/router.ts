// Client-side navigation: links marked data-nav change the address without a reload.

export type Cleanup = (() => void) | void;
let render: () => void = () => {};

export function startRouter(renderPage: () => void): void {
  render = renderPage;
  window.addEventListener("popstate", () => render());
  document.addEventListener("click", (event) => {
    const link = (event.target as Element | null)?.closest?.("a[data-nav]") as HTMLAnchorElement | null;
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(link.getAttribute("href")!);
  });
  render();
}

export function navigate(path: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.scrollTo(0, 0);
  render();
}
