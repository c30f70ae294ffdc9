// Pay one or all outstanding invoices: the card goes to the gateway's token endpoint (never to /graphql),
// then payInvoices with the token and an idempotency key; a decline is a message, not a crash.
import { explain } from "../api";
import { day, field, h, money, onSubmit, replace, statusLine } from "../dom";
import { newKey } from "../idempotency";
import type { Customer } from "./context";
import { failed, loadingInto } from "./lists";

type Outstanding = { id: string; number: string; dueDate: string; balanceDue: string; currency: string; status: string; paymentOptions: string[] };
type Saved = { id: string; kind: string; brand: string | null; last4: string; expMonth: number | null; expYear: number | null };
type PaymentMethod = { gatewayToken: string } | { savedPaymentMethodId: string };
type Attempt = { key: string; paymentMethod?: PaymentMethod };
type PayResult = { status: "SUCCEEDED" | "FAILED"; failureReason: string | null; payment: { number: string; amount: string; currency: string } | null };

export async function payPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Pay invoices");
  loadingInto(main, "Pay invoices");
  let invoices: Outstanding[];
  let saved: Saved[];
  try {
    const data = await c.api.request<{ invoices: { edges: { node: Outstanding }[] }; savedPaymentMethods: Saved[] }>(
      `{ invoices(statuses: [SENT, OVERDUE, PARTIALLY_PAID], first: 100) { edges { node { id number dueDate balanceDue currency status paymentOptions } } }
         savedPaymentMethods { id kind brand last4 expMonth expYear } }`,
    );
    invoices = data.invoices.edges.map((e) => e.node).filter((i) => i.paymentOptions.some((o) => o !== "OFFLINE"));
    saved = data.savedPaymentMethods;
  } catch (error) {
    return failed(main, "Pay invoices", error);
  }
  const wanted = new URLSearchParams(location.search).get("invoice");
  if (!invoices.length) {
    replace(main, h("h1", {}, "Pay invoices"), h("p", { class: "status status-ok", role: "status" }, "Nothing to pay: every invoice is settled."), h("p", {}, h("a", { href: `${c.base}/invoices`, "data-nav": true }, "See your invoices")));
    return;
  }
  const boxes = invoices.map((invoice) => h("input", { type: "checkbox", name: "invoice", value: invoice.id, checked: !wanted || wanted === invoice.id }));
  const total = h("p", { class: "total-line", "aria-live": "polite" });
  const updateTotal = () => {
    const chosen = invoices.filter((_, i) => boxes[i]!.checked);
    const currency = chosen[0]?.currency ?? invoices[0]!.currency;
    // Cents as integers: money stays exact without a float.
    const cents = chosen.reduce((sum, i) => {
      const [whole, fraction = ""] = i.balanceDue.split(".");
      return sum + BigInt(whole! + (fraction + "00").slice(0, 2));
    }, 0n);
    const text = (cents / 100n).toString() + "." + (cents % 100n).toString().padStart(2, "0");
    total.textContent = chosen.length ? `To pay: ${money(text, currency)} for ${chosen.length} invoice${chosen.length > 1 ? "s" : ""}` : "Choose at least one invoice.";
  };
  boxes.forEach((box) => box.addEventListener("change", updateTotal));
  updateTotal();
  const list = h(
    "fieldset",
    { class: "invoices-to-pay" },
    h("legend", {}, "Invoices"),
    invoices.map((invoice, i) =>
      h("div", { class: "check" }, boxes[i], h("label", { for: (boxes[i]!.id = `pay-${i}`) }, `${invoice.number} — ${money(invoice.balanceDue, invoice.currency)} due ${day(invoice.dueDate)}`)),
    ),
  );

  const methodChoices = [...saved.map((m) => ({ value: m.id, label: `${m.brand ?? (m.kind === "BANK_ACCOUNT" ? "Bank account" : "Card")} ending ${m.last4}` })), { value: "new", label: "A new card" }];
  const radios = methodChoices.map((choice, i) => h("input", { type: "radio", name: "method", value: choice.value, id: `method-${i}`, checked: choice.value === "new" }));
  const methods = h("fieldset", {}, h("legend", {}, "Pay with"), methodChoices.map((choice, i) => h("div", { class: "check" }, radios[i], h("label", { for: `method-${i}` }, choice.label))));

  const year = new Date().getFullYear();
  const name = h("input", { name: "cc-name", autocomplete: "cc-name", required: true });
  const number = h("input", { name: "cc-number", autocomplete: "cc-number", inputmode: "numeric", required: true });
  const expMonth = h("select", { name: "cc-exp-month", autocomplete: "cc-exp-month" }, Array.from({ length: 12 }, (_, i) => h("option", { value: i + 1 }, String(i + 1).padStart(2, "0"))));
  const expYear = h("select", { name: "cc-exp-year", autocomplete: "cc-exp-year" }, Array.from({ length: 12 }, (_, i) => h("option", { value: year + i }, String(year + i))));
  expYear.value = String(year + 2);
  const cvc = h("input", { name: "cc-csc", autocomplete: "cc-csc", inputmode: "numeric", required: true, maxlength: 4 });
  const country = h("input", { name: "country", autocomplete: "country-name" });
  const save = h("input", { type: "checkbox", name: "save", id: "save-card" });
  const card = h(
    "fieldset",
    { class: "card-form" },
    h("legend", {}, "Card details"),
    h("p", { class: "hint" }, "Your card goes straight to the payment processor; the portal only receives a token."),
    field("Name on card", name),
    field("Card number", number),
    h("div", { class: "row" }, field("Expiry month", expMonth), field("Expiry year", expYear), field("CVC", cvc)),
    field("Country (optional)", country),
    h("div", { class: "check" }, save, h("label", { for: "save-card" }, "Save this card for later")),
  );
  const showCard = () => {
    const isNew = radios.find((r) => r.checked)?.value === "new";
    card.hidden = !isNew;
    [name, number, cvc].forEach((input) => (input.required = isNew));
  };
  radios.forEach((r) => r.addEventListener("change", showCard));
  showCard();

  /** A new card becomes a gateway token (the card goes to the gateway only); a saved method is its id. */
  const paymentMethodOf = async (method: string): Promise<PaymentMethod> => {
    if (method !== "new") return { savedPaymentMethodId: method };
    const answer = await fetch("/sandbox-gateway/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ number: number.value.replace(/\s+/g, ""), expMonth: Number(expMonth.value), expYear: Number(expYear.value), cvc: cvc.value.trim(), name: name.value.trim(), country: country.value.trim() || null, address: null }),
    });
    const token = (await answer.json().catch(() => ({}))) as { token?: string; error?: string };
    if (!answer.ok || !token.token) throw new Error(token.error ?? "The card could not be checked. Please try again.");
    return { gatewayToken: token.token };
  };

  const status = statusLine();
  const form = h("form", { class: "stack pay-form" }, list, total, methods, card, h("button", { type: "submit", class: "primary" }, "Pay"), status);
  // One attempt is one idempotency key and, for a new card, one gateway token: retried after a lost answer,
  // it sends both again and the server answers with the first result (a new token under the same key would
  // be a different request: CONFLICT). Changing anything in the form, or an answer, starts a new attempt.
  let attempt: Attempt = { key: newKey() };
  const startOver = () => (attempt = { key: newKey() });
  form.addEventListener("input", startOver);
  form.addEventListener("change", startOver);
  onSubmit(
    form,
    status,
    async () => {
      const invoiceIds = invoices.filter((_, i) => boxes[i]!.checked).map((i) => i.id);
      if (!invoiceIds.length) throw new Error("Choose at least one invoice to pay.");
      const method = radios.find((r) => r.checked)!.value;
      const current = attempt;
      current.paymentMethod ??= await paymentMethodOf(method);
      const { payInvoices } = await c.api.request<{ payInvoices: PayResult }>(
        `mutation Pay($input: PayInvoicesInput!) { payInvoices(input: $input) { status failureReason failureCode payment { number amount currency } } }`,
        { input: { invoiceIds, paymentMethod: current.paymentMethod, savePaymentMethod: method === "new" && save.checked, idempotencyKey: current.key } },
      );
      startOver(); // answered: a new attempt from here on
      if (payInvoices.status === "FAILED") {
        status.say(`The payment did not go through: ${payInvoices.failureReason ?? "the card was declined"}`, "error");
        return;
      }
      const paid = payInvoices.payment!;
      replace(
        main,
        h("h1", {}, "Thank you"),
        h("p", { class: "status status-ok", role: "status" }, `Payment ${paid.number} of ${money(paid.amount, paid.currency)} received. Invoices paid: ${invoices.filter((i) => invoiceIds.includes(i.id)).map((i) => i.number).join(", ")}.`),
        h("ul", {}, invoiceIds.map((invoiceId) => h("li", {}, h("a", { href: `${c.base}/documents/${invoiceId}`, "data-nav": true }, `Open ${invoices.find((i) => i.id === invoiceId)!.number}`)))),
        h("p", {}, h("a", { href: `${c.base}/`, "data-nav": true }, "Back to the dashboard")),
      );
    },
    explain,
  );
  replace(main, h("h1", {}, "Pay invoices"), form);
}
