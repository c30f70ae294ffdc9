// The parts of an estimate or invoice both sides show: its facts, lines, totals, payments and comments.
import { badge, day, h, initials, moment, money, table, words } from "./dom";
import { statusOf, type Comment, type DocumentData } from "./queries";

export function documentTitle(document: DocumentData): string {
  return `${document.__typename === "Invoice" ? "Invoice" : "Estimate"} ${document.number}`;
}

export function facts(document: DocumentData): HTMLElement {
  const rows: [string, Node | string][] = [
    ["Status", badge(statusOf(document))],
    ["Customer", document.customer.displayName],
    ["Date", day(document.date)],
  ];
  if (document.dueDate) rows.push(["Due", day(document.dueDate)]);
  if (document.expiryDate) rows.push(["Expires", day(document.expiryDate)]);
  rows.push(["Total", money(document.total, document.currency)]);
  if (document.balanceDue !== undefined) rows.push(["Balance due", money(document.balanceDue, document.currency)]);
  if (document.declineReason) rows.push(["Reason for declining", document.declineReason]);
  rows.push(["Viewed", document.viewedAt ? moment(document.viewedAt) : "Not yet"]);
  return h("dl", { class: "facts", "data-testid": "facts" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

export function lines(document: DocumentData): HTMLElement {
  const c = document.currency;
  const rows = document.lineItems.map((line) => [
    h("span", {}, line.name, line.description ? h("span", { class: "muted block" }, line.description) : null),
    line.quantity,
    money(line.rate, c),
    `${line.taxPercent} %`,
    money(line.amount, c),
  ]);
  const totals = h(
    "dl",
    { class: "totals" },
    h("dt", {}, "Subtotal"),
    h("dd", {}, money(document.subTotal, c)),
    h("dt", {}, "Tax"),
    h("dd", {}, money(document.taxTotal, c)),
    h("dt", {}, "Total"),
    h("dd", { class: "strong" }, money(document.total, c)),
    document.amountPaid !== undefined ? [h("dt", {}, "Paid"), h("dd", {}, money(document.amountPaid, c))] : null,
    document.balanceDue !== undefined ? [h("dt", {}, "Balance due"), h("dd", { class: "strong" }, money(document.balanceDue, c))] : null,
  );
  return h("section", { "aria-labelledby": "lines-h" }, h("h2", { id: "lines-h" }, "Items"), table("Line items", ["Item", "Quantity", "Rate", "Tax", "Amount"], rows, [1, 2, 3, 4]), totals);
}

export function payments(document: DocumentData): HTMLElement | null {
  if (!document.payments) return null;
  return h(
    "section",
    { "aria-labelledby": "payments-h" },
    h("h2", { id: "payments-h" }, "Payments"),
    document.payments.length
      ? table(
          "Payments of this invoice",
          ["Number", "Date", "Method", "Amount"],
          document.payments.map((p) => [p.number, day(p.date), words(p.method), money(p.amount, p.currency)]),
          [3],
        )
      : h("p", { class: "muted" }, "No payments yet."),
  );
}

export function commentList(comments: Comment[], { staffView = false } = {}): HTMLElement {
  if (!comments.length) return h("p", { class: "muted", id: "comments-list" }, "No comments yet.");
  return h(
    "ol",
    { class: "comments", id: "comments-list" },
    comments.map((comment) =>
      h(
        "li",
        { class: comment.byStaff ? "comment staff" : "comment" },
        initials(comment.authorName),
        h(
          "div",
          {},
          h(
            "p",
            { class: "comment-meta" },
            h("strong", {}, comment.authorName),
            comment.byStaff ? " (staff)" : "",
            " · ",
            h("time", { datetime: comment.createdAt }, moment(comment.createdAt)),
            staffView && comment.byStaff ? h("span", { class: "muted" }, comment.visibleInPortal ? " · visible in the portal" : " · hidden from the customer") : null,
          ),
          h("p", { class: "comment-body" }, comment.body),
        ),
      ),
    ),
  );
}
