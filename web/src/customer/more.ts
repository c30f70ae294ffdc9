// Statement, projects and timesheets, my account (details, company, saved methods, password), review.
import { explain } from "../api";
import { commentList } from "../document-view";
import { day, field, h, money, onSubmit, replace, statusLine, table, words } from "../dom";
import { ADD_COMMENT, type Comment } from "../queries";
import type { Customer } from "./context";
import { failed, loadingInto } from "./lists";

type Statement = {
  from: string; to: string; currency: string; openingBalance: string; invoicedAmount: string; amountPaid: string; closingBalance: string; pdfUrl: string;
  lines: { date: string; kind: string; reference: string; amount: string; payment: string; balance: string; document: { id: string } | null }[];
};

const isoDay = (date: Date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;

export async function statementPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Statement");
  const today = new Date();
  const from = h("input", { type: "date", name: "from", value: isoDay(new Date(today.getFullYear(), today.getMonth(), 1)) });
  const to = h("input", { type: "date", name: "to", value: isoDay(today) });
  const status = statusLine();
  const result = h("div", {});
  const form = h("form", { class: "filters" }, field("From", from), field("To", to), h("button", { type: "submit", class: "secondary" }, "Show statement"));
  const show = async () => {
    const { statement } = await c.api.request<{ statement: Statement }>(
      `query Statement($from: Date, $to: Date) { statement(from: $from, to: $to) { from to currency openingBalance invoicedAmount amountPaid closingBalance pdfUrl
         lines { date kind reference amount payment balance document { id } } } }`,
      { from: from.value || null, to: to.value || null },
    );
    const cur = statement.currency;
    const pdf = h("button", { type: "button", class: "secondary" }, "Download statement PDF");
    pdf.addEventListener("click", async () => {
      const target = window.open("", "_blank");
      try {
        await c.api.openPdf(statement.pdfUrl, target);
      } catch (error) {
        target?.close();
        status.say(explain(error), "error");
      }
    });
    replace(
      result,
      h("h2", {}, `${day(statement.from)} – ${day(statement.to)}`),
      h(
        "dl",
        { class: "facts" },
        [["Opening balance", statement.openingBalance], ["Invoiced", statement.invoicedAmount], ["Paid", statement.amountPaid], ["Balance due", statement.closingBalance]].map(([term, value]) => [h("dt", {}, term!), h("dd", {}, money(value!, cur))]),
      ),
      pdf,
      table(
        "Statement of accounts",
        ["Date", "Transaction", "Reference", "Amount", "Payment", "Balance"],
        statement.lines.map((line) => [
          day(line.date),
          words(line.kind),
          line.document && line.kind === "INVOICE" ? h("a", { href: `${c.base}/documents/${line.document.id}`, "data-nav": true }, line.reference) : line.reference,
          money(line.amount, cur),
          money(line.payment, cur),
          money(line.balance, cur),
        ]),
        [3, 4, 5],
      ),
    );
  };
  onSubmit(form, status, show, explain);
  replace(main, h("h1", {}, "Statement of accounts"), form, status, result);
  try {
    await show();
  } catch (error) {
    status.say(explain(error), "error");
  }
}

type Project = {
  id: string; name: string; description: string | null;
  tasks: { id: string; name: string; loggedHours: string; billedHours: string; unbilledHours: string }[];
  timesheets: { id: string; date: string; hours: string; status: string; notes: string | null; task: { name: string } }[];
  comments: Comment[];
};

export async function projectsPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Projects");
  loadingInto(main, "Projects");
  try {
    const { projects } = await c.api.request<{ projects: Project[] }>("{ projects { id name description tasks { id name loggedHours } } }");
    replace(
      main,
      h("h1", {}, "Projects"),
      projects.length
        ? h("ul", { class: "cards" }, projects.map((p) => h("li", { class: "card" }, h("h2", {}, h("a", { href: `${c.base}/projects/${p.id}`, "data-nav": true }, p.name)), p.description ? h("p", {}, p.description) : null)))
        : h("p", { class: "muted" }, "No projects to show."),
    );
  } catch (error) {
    failed(main, "Projects", error);
  }
}

export async function projectPage(c: Customer, main: HTMLElement, id: string): Promise<void> {
  loadingInto(main, "Project");
  const load = () =>
    c.api.request<{ node: Project | null }>(
      `query Project($id: ID!) { node(id: $id) { ... on Project { id name description
         tasks { id name loggedHours billedHours unbilledHours }
         timesheets { id date hours status notes task { name } }
         comments { id body authorName byStaff visibleInPortal createdAt } } } }`,
      { id },
    );
  try {
    const { node } = await load();
    if (!node?.name) throw new Error("This project does not exist or is not shown in the portal.");
    c.setTitle(node.name);
    const comments = h("div", {}, commentList(node.comments));
    const text = h("textarea", { name: "comment", rows: 3, required: true });
    const status = statusLine();
    const form = h("form", { class: "stack" }, field("Your comment", text), h("button", { type: "submit", class: "primary" }, "Add comment"), status);
    onSubmit(form, status, async () => {
      await c.api.request(ADD_COMMENT, { id, body: text.value.trim(), visible: true });
      text.value = "";
      const again = await load();
      replace(comments, commentList(again.node?.comments ?? []));
    }, explain);
    replace(
      main,
      h("p", { class: "crumbs" }, h("a", { href: `${c.base}/projects`, "data-nav": true }, "Projects")),
      h("h1", {}, node.name),
      node.description ? h("p", {}, node.description) : null,
      h("section", {}, h("h2", {}, "Tasks"), table("Tasks", ["Task", "Logged hours", "Billed", "Unbilled"], node.tasks.map((t) => [t.name, t.loggedHours, t.billedHours, t.unbilledHours]), [1, 2, 3])),
      h("section", {}, h("h2", {}, "Timesheets"), node.timesheets.length ? table("Time entries", ["Date", "Task", "Hours", "Status", "Notes"], node.timesheets.map((e) => [day(e.date), e.task.name, e.hours, words(e.status), e.notes ?? ""]), [2]) : h("p", { class: "muted" }, "No time logged yet.")),
      h("section", {}, h("h2", {}, "Comments"), comments, form),
    );
  } catch (error) {
    failed(main, "Project", error);
  }
}

type Address = { attention: string | null; street1: string | null; street2: string | null; city: string | null; state: string | null; zip: string | null; country: string | null; phone: string | null };
const ADDRESS_FIELDS = ["attention", "street1", "street2", "city", "state", "zip", "country", "phone"] as const;
const ADDRESS_LABELS: Record<(typeof ADDRESS_FIELDS)[number], string> = { attention: "Attention", street1: "Street", street2: "Street (line 2)", city: "City", state: "State or region", zip: "Postal code", country: "Country", phone: "Phone" };

export async function accountPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("My account");
  loadingInto(main, "My account");
  type Data = {
    viewer: { firstName: string; lastName: string | null; email: string; phone: string | null; mobile: string | null };
    myCustomer: { displayName: string; companyName: string | null; billingAddress: Address | null };
    savedPaymentMethods: { id: string; kind: string; brand: string | null; last4: string; expMonth: number | null; expYear: number | null }[];
  };
  let data: Data;
  try {
    data = await c.api.request<Data>(
      `{ viewer { ... on ContactPerson { firstName lastName email phone mobile } }
         myCustomer { displayName companyName billingAddress { ${ADDRESS_FIELDS.join(" ")} } }
         savedPaymentMethods { id kind brand last4 expMonth expYear } }`,
    );
  } catch (error) {
    return failed(main, "My account", error);
  }
  const me = data.viewer;
  const first = h("input", { name: "given-name", autocomplete: "given-name", value: me.firstName });
  const last = h("input", { name: "family-name", autocomplete: "family-name", value: me.lastName ?? "" });
  const phone = h("input", { name: "tel", type: "tel", autocomplete: "tel", value: me.phone ?? "" });
  const mobile = h("input", { name: "mobile", type: "tel", value: me.mobile ?? "" });
  const meStatus = statusLine();
  const meForm = h("form", { class: "stack card", "aria-labelledby": "me-h" }, h("h2", { id: "me-h" }, "My details"), h("p", { class: "muted" }, `Signed in as ${me.email}`), field("First name", first), field("Last name", last), field("Phone", phone), field("Mobile", mobile), h("button", { type: "submit", class: "primary" }, "Save my details"), meStatus);
  onSubmit(meForm, meStatus, async () => {
    await c.api.request("mutation Me($input: MyAccountInput!) { updateMyAccount(input: $input) { id } }", { input: { firstName: first.value.trim(), lastName: last.value.trim() || null, phone: phone.value.trim() || null, mobile: mobile.value.trim() || null } });
    meStatus.say("Your details are saved.", "ok");
  }, explain);

  const company = h("input", { name: "organization", autocomplete: "organization", value: data.myCustomer.companyName ?? "" });
  const address = Object.fromEntries(ADDRESS_FIELDS.map((key) => [key, h("input", { name: `billing-${key}`, value: data.myCustomer.billingAddress?.[key] ?? "" })])) as Record<(typeof ADDRESS_FIELDS)[number], HTMLInputElement>;
  const companyStatus = statusLine();
  const editable = c.capabilities.allowCustomersToEditDetails;
  const companyForm = h(
    "form",
    { class: "stack card", "aria-labelledby": "company-h" },
    h("h2", { id: "company-h" }, "Company details"),
    h("p", { class: "muted" }, data.myCustomer.displayName),
    editable ? null : h("p", { class: "hint" }, "Ask the business to change these details."),
    field("Company name", company),
    h("fieldset", {}, h("legend", {}, "Billing address"), ADDRESS_FIELDS.map((key) => field(ADDRESS_LABELS[key], address[key]))),
    editable ? h("button", { type: "submit", class: "primary" }, "Save company details") : null,
    companyStatus,
  );
  if (!editable) companyForm.querySelectorAll("input").forEach((input) => (input.readOnly = true));
  onSubmit(companyForm, companyStatus, async () => {
    const billingAddress = Object.fromEntries(ADDRESS_FIELDS.map((key) => [key, address[key].value.trim() || null]));
    await c.api.request("mutation Company($input: CompanyDetailsInput!) { updateCompanyDetails(input: $input) { id } }", { input: { companyName: company.value.trim() || null, billingAddress } });
    companyStatus.say("Company details saved.", "ok");
  }, explain);

  const methodsStatus = statusLine();
  const methods = h(
    "section",
    { class: "card", "aria-labelledby": "methods-h" },
    h("h2", { id: "methods-h" }, "Saved payment methods"),
    data.savedPaymentMethods.length
      ? h("ul", { class: "plain" }, data.savedPaymentMethods.map((m) => {
          const remove = h("button", { type: "button", class: "link-button" }, `Remove ${m.brand ?? "card"} ending ${m.last4}`);
          const item = h("li", {}, `${m.brand ?? words(m.kind)} ending ${m.last4}`, m.expMonth ? ` (expires ${String(m.expMonth).padStart(2, "0")}/${m.expYear})` : "", " ", remove);
          remove.addEventListener("click", async () => {
            try {
              await c.api.request("mutation Remove($id: ID!) { removeSavedPaymentMethod(id: $id) }", { id: m.id });
              item.remove();
              methodsStatus.say("Removed.", "ok");
            } catch (error) {
              methodsStatus.say(explain(error), "error");
            }
          });
          return item;
        }))
      : h("p", { class: "muted" }, "None saved. You can save a card when you pay."),
    methodsStatus,
  );

  const current = h("input", { type: "password", name: "current-password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true, minlength: 10 });
  const pwStatus = statusLine();
  const pwForm = h("form", { class: "stack card", "aria-labelledby": "pw-h" }, h("h2", { id: "pw-h" }, "Password"), field("Current password", current), field("New password", next), h("button", { type: "submit", class: "primary" }, "Change password"), pwStatus);
  onSubmit(pwForm, pwStatus, async () => {
    await c.api.request("mutation Password($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }", { current: current.value, next: next.value });
    pwForm.reset();
    pwStatus.say("Password changed.", "ok");
  }, explain);

  replace(main, h("h1", {}, "My account"), h("div", { class: "grid" }, meForm, companyForm, methods, pwForm), h("p", {}, h("a", { href: `${c.base}/review`, "data-nav": true }, "Rate and review us")));
}

export async function reviewPage(c: Customer, main: HTMLElement): Promise<void> {
  c.setTitle("Review");
  const stars = [5, 4, 3, 2, 1].map((n) => h("input", { type: "radio", name: "rating", value: n, id: `rating-${n}`, required: true }));
  const comment = h("textarea", { name: "review", rows: 4, maxlength: 5000 });
  const status = statusLine();
  const form = h(
    "form",
    { class: "stack card" },
    h("fieldset", { class: "rating" }, h("legend", {}, "Your rating"), stars.map((input) => h("div", { class: "check" }, input, h("label", { for: input.id }, `${input.value} of 5`)))),
    field("Your review (optional)", comment),
    h("button", { type: "submit", class: "primary" }, "Submit review"),
    status,
  );
  onSubmit(form, status, async () => {
    const rating = Number(stars.find((s) => s.checked)?.value ?? 0);
    if (!rating) throw new Error("Choose a rating from 1 to 5.");
    await c.api.request("mutation Review($rating: Int!, $comment: String) { submitReview(rating: $rating, comment: $comment) { id } }", { rating, comment: comment.value.trim() || null });
    replace(main, h("h1", {}, "Thank you"), h("p", { class: "status status-ok", role: "status" }, `Your review was sent to ${c.businessName}.`));
  }, explain);
  replace(main, h("h1", {}, `Review ${c.businessName}`), form);
}
