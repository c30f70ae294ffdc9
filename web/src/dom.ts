// A few helpers to build the pages with the DOM itself: no HTML strings, no style attributes.

type Child = Node | string | number | null | undefined | false | Child[];
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value as EventListener);
    } else if (name === "class") {
      element.className = String(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Money from a decimal string, with its currency; never through a float when the browser can help it. */
export function money(amount: string, currency: string): string {
  try {
    const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    return (format.format as unknown as (value: string) => string)(amount);
  } catch {
    return `${currency} ${amount}`;
  }
}

export function day(value: string | null | undefined): string {
  if (!value) return "—";
  const [year, month, date] = value.slice(0, 10).split("-").map(Number);
  return new Date(year, month - 1, date).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function moment(value: string): string {
  return new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function words(value: string): string {
  const text = value.replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function badge(status: string): HTMLElement {
  return h("span", { class: `badge badge-${status.toLowerCase()}` }, words(status));
}

export function initials(name: string): HTMLElement {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]!.toUpperCase())
    .join("");
  return h("span", { class: "avatar", "aria-hidden": "true" }, letters || "?");
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const hintElement = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintElement) input.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hintElement);
}

/** A message region that screen readers announce. */
export function statusLine(): HTMLElement & { say(text: string, kind?: "error" | "ok" | "info"): void } {
  const element = h("p", { class: "status", role: "status", "aria-live": "polite" }) as unknown as HTMLElement & {
    say(text: string, kind?: "error" | "ok" | "info"): void;
  };
  element.say = (text, kind = "info") => {
    element.textContent = text;
    element.className = `status status-${kind}`;
    element.hidden = !text;
  };
  element.hidden = true;
  return element;
}

export function table(caption: string, headings: string[], rows: Child[][], numeric: number[] = []): HTMLElement {
  return h(
    "div",
    // Focusable and named: on a narrow screen it scrolls sideways, by keyboard too.
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headings.map((text, index) => h("th", { scope: "col", class: numeric.includes(index) ? "num" : null }, text)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, index) => h("td", { class: numeric.includes(index) ? "num" : null }, cell))))),
    ),
  );
}

/** Submits a form with a busy state, reporting failures in its status line. */
export function onSubmit(form: HTMLFormElement, status: ReturnType<typeof statusLine>, action: () => Promise<void>, explain: (e: unknown) => string): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    status.say("");
    try {
      await action();
    } catch (error) {
      status.say(explain(error), "error");
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}
