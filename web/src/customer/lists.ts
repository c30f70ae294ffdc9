// Dashboard and the lists: invoices and estimates (with status filters, paged), payments.
import { explain } from "../api";
import { badge, day, field, h, money, replace, statusLine, table, words } from "../dom";
import type { Customer } from "./context";

type Money = { count: number; total: string };
type DashboardData = {
  currency: string;
  bannerMessage: string | null;
  outstandingInvoices: Money;
  outstandingRetainerInvoices: Money;
  lastPayment: { number: string; date: string; amount: string; currency: string } | null;
  estimatesAwaitingApproval: number;
};

function loadingInto(main: HTMLElement, title: string): void {
  replace(main, h("h1", {}, title), h("p", { class: "muted", role: "status" }, "Loading…"));
}

function failed(main: HTMLElement, title: string, error: unknown): void {
  replace(main, h("h1", {}, title), h("p", { class: "status status-error", role: "alert" }, explain(error)));
}

export async function dashboardPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Dashboard");
  loadingInto(main, "Dashboard");
  try {
    const { dashboard, viewer } = await c.api.request<{ dashboard: DashboardData; viewer: { firstName: string } | null }>(
      `{ dashboard { currency bannerMessage outstandingInvoices { count total } outstandingRetainerInvoices { count total }
         lastPayment { number date amount currency } estimatesAwaitingApproval }
         viewer { ... on ContactPerson { firstName } } }`,
    );
    const cur = dashboard.currency;
    const tile = (label: string, value: string, detail: string, href: string) =>
      h("li", { class: "tile" }, h("h2", {}, label), h("p", { class: "tile-value" }, value), h("p", {}, h("a", { href: `${c.base}/${href}`, "data-nav": true }, detail)));
    replace(
      main,
      h("h1", {}, viewer?.firstName ? `Welcome, ${viewer.firstName}` : "Dashboard"),
      dashboard.bannerMessage ? h("p", { class: "banner" }, dashboard.bannerMessage) : null,
      h(
        "ul",
        { class: "tiles" },
        tile("Outstanding invoices", money(dashboard.outstandingInvoices.total, cur), `${dashboard.outstandingInvoices.count} to pay`, "invoices"),
        dashboard.outstandingRetainerInvoices.count
          ? tile("Retainer invoices", money(dashboard.outstandingRetainerInvoices.total, cur), `${dashboard.outstandingRetainerInvoices.count} to pay`, "invoices")
          : null,
        tile("Estimates awaiting approval", String(dashboard.estimatesAwaitingApproval), "See estimates", "estimates"),
        tile(
          "Last payment",
          dashboard.lastPayment ? money(dashboard.lastPayment.amount, dashboard.lastPayment.currency) : "None yet",
          dashboard.lastPayment ? `${dashboard.lastPayment.number} on ${day(dashboard.lastPayment.date)}` : "See payments",
          "payments",
        ),
      ),
      dashboard.outstandingInvoices.count ? h("p", {}, h("a", { class: "button primary", href: `${c.base}/pay`, "data-nav": true }, "Pay outstanding invoices")) : null,
    );
  } catch (error) {
    failed(main, "Dashboard", error);
  }
}

type Row = { id: string; number: string; date: string; status: string; total: string; currency: string; balanceDue?: string; dueDate?: string; expiryDate?: string | null };

async function documentList(
  c: Customer,
  main: HTMLElement,
  options: { title: string; field: "invoices" | "estimates"; statuses: string[]; statusType: string; fields: string; headings: string[] },
): Promise<void> {
  c.setTitle(options.title);
  const filter = h("select", { name: "status" }, h("option", { value: "" }, "All"), options.statuses.map((s) => h("option", { value: s }, words(s))));
  if (options.field === "invoices") filter.insertBefore(h("option", { value: "OUTSTANDING" }, "Outstanding"), filter.children[1]!);
  const results = h("div", { "aria-live": "polite" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const status = statusLine();
  let after: string | null = null;
  let rows: Row[] = [];

  const show = () => {
    if (!rows.length) return replace(results, h("p", { class: "muted" }, "Nothing here."));
    const body = rows.map((row) => {
      const cells: (Node | string)[] = [
        h("a", { href: `${c.base}/documents/${row.id}`, "data-nav": true }, row.number),
        day(row.date),
        day(row.dueDate ?? row.expiryDate ?? null),
        badge(row.status),
        money(row.total, row.currency),
      ];
      if (options.field === "invoices") cells.push(money(row.balanceDue ?? "0", row.currency));
      return cells;
    });
    replace(results, table(options.title, options.headings, body, options.field === "invoices" ? [4, 5] : [4]));
  };

  const load = async (reset: boolean) => {
    if (reset) {
      after = null;
      rows = [];
    }
    const chosen = filter.value;
    const statuses = chosen === "OUTSTANDING" ? ["SENT", "OVERDUE", "PARTIALLY_PAID"] : chosen ? [chosen] : null;
    try {
      const data = await c.api.request<Record<string, { edges: { node: Row }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>>(
        `query List($statuses: [${options.statusType}!], $after: String) {
           ${options.field}(statuses: $statuses, first: 20, after: $after) {
             edges { node { id number date status currency total ${options.fields} } } pageInfo { hasNextPage endCursor } } }`,
        { statuses, after },
      );
      const page = data[options.field]!;
      rows = rows.concat(page.edges.map((edge) => edge.node));
      after = page.pageInfo.endCursor;
      more.hidden = !page.pageInfo.hasNextPage;
      show();
    } catch (error) {
      status.say(explain(error), "error");
    }
  };
  filter.addEventListener("change", () => void load(true));
  more.addEventListener("click", () => void load(false));
  replace(main, h("h1", {}, options.title), h("form", { class: "filters", role: "search" }, field("Status", filter)), status, results, more);
  await load(true);
}

export function invoicesPage(c: Customer, main: HTMLElement): Promise<void> {
  return documentList(c, main, {
    title: "Invoices",
    field: "invoices",
    statuses: ["SENT", "OVERDUE", "PARTIALLY_PAID", "PAID", "VOID"],
    statusType: "InvoiceStatus",
    fields: "dueDate balanceDue",
    headings: ["Number", "Date", "Due", "Status", "Total", "Balance due"],
  });
}

export function estimatesPage(c: Customer, main: HTMLElement): Promise<void> {
  return documentList(c, main, {
    title: "Estimates",
    field: "estimates",
    statuses: ["SENT", "ACCEPTED", "DECLINED", "EXPIRED", "INVOICED"],
    statusType: "EstimateStatus",
    fields: "expiryDate",
    headings: ["Number", "Date", "Expires", "Status", "Total"],
  });
}

export async function paymentsPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Payments");
  loadingInto(main, "Payments");
  try {
    const { payments } = await c.api.request<{
      payments: { edges: { node: { id: string; number: string; date: string; amount: string; currency: string; method: string; reference: string | null; allocations: { invoice: { id: string; number: string } }[] } }[] };
    }>("{ payments(first: 100) { edges { node { id number date amount currency method reference allocations { invoice { id number } } } } } }");
    const rows = payments.edges.map(({ node }) => [
      node.number,
      day(node.date),
      words(node.method),
      h("span", {}, node.allocations.map((a, i) => [i ? ", " : "", h("a", { href: `${c.base}/documents/${a.invoice.id}`, "data-nav": true }, a.invoice.number)])),
      money(node.amount, node.currency),
    ]);
    replace(main, h("h1", {}, "Payments"), rows.length ? table("Payments made", ["Number", "Date", "Method", "Invoices", "Amount"], rows, [4]) : h("p", { class: "muted" }, "No payments yet."));
  } catch (error) {
    failed(main, "Payments", error);
  }
}

export { failed, loadingInto };
