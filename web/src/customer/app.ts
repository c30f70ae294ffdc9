// The contact person's portal: /portal/<portalName>/… — sign-in, invitation, and the signed-in pages.
import type { Client } from "graphql-ws";
import { Api, ApiError, explain, saveToken } from "../api";
import { field, h, onSubmit, replace, statusLine } from "../dom";
import { liveClient } from "../live";
import { navigate, type Cleanup } from "../router";
import type { Capabilities, Customer } from "./context";
import { dashboardPage, estimatesPage, invoicesPage, paymentsPage } from "./lists";
import { documentPage } from "./document";
import { payPage } from "./pay";
import { accountPage, projectPage, projectsPage, reviewPage, statementPage } from "./more";

type PublicPortal = { name: string; bannerMessage: string | null } | null;
let live: { token: string; client: Client } | null = null;

export async function customerPage(root: HTMLElement, portalName: string, path: string[]): Promise<Cleanup> {
  const api = new Api({ kind: "portal", portalName }, () => navigate(`/portal/${portalName}/`));
  const base = `/portal/${encodeURIComponent(portalName)}`;
  let business: PublicPortal = null;
  try {
    business = (await api.request<{ publicPortal: PublicPortal }>(
      "query PublicPortal($name: String!) { publicPortal(portalName: $name) { name bannerMessage } }",
      { name: portalName },
    )).publicPortal;
  } catch (error) {
    return showMessage(root, "Customer portal", explain(error));
  }
  if (!business) return showMessage(root, "Customer portal", "There is no portal at this address. Check the link you were sent.");
  const setTitle = (title: string) => (document.title = `${title} · ${business!.name}`);

  if (path[0] === "accept-invite") return acceptInvitePage(root, api, business.name, base, setTitle);
  if (!api.token) return signInPage(root, api, portalName, business, setTitle);

  let capabilities: Capabilities;
  try {
    capabilities = (await api.request<{ myPortal: Capabilities }>(
      "{ myPortal { bannerMessage allowForwarding showProjectsAndTimesheets allowCustomersToEditDetails paymentMethods } }",
    )).myPortal;
  } catch (error) {
    if (!api.token) return signInPage(root, api, portalName, business, setTitle);
    return showMessage(root, business.name, explain(error));
  }
  const customer: Customer = {
    api,
    portalName,
    businessName: business.name,
    capabilities,
    base,
    setTitle,
    live: () => {
      const token = api.token!;
      if (!live || live.token !== token) {
        void live?.client.dispose();
        live = { token, client: liveClient(token, (state) => document.body.setAttribute("data-live", state)) };
      }
      return live.client;
    },
  };
  const main = h("main", { id: "main" });
  replace(root, header(customer, path[0] ?? ""), main, footer(business.name));
  const [section, id] = path;
  switch (section ?? "") {
    case "":
      return dashboardPage(customer, main);
    case "invoices":
      return invoicesPage(customer, main);
    case "estimates":
      return estimatesPage(customer, main);
    case "payments":
      return paymentsPage(customer, main);
    case "documents":
      return documentPage(customer, main, id ?? "");
    case "pay":
      return payPage(customer, main);
    case "statement":
      return statementPage(customer, main);
    case "projects":
      return id ? projectPage(customer, main, id) : projectsPage(customer, main);
    case "account":
      return accountPage(customer, main);
    case "review":
      return reviewPage(customer, main);
    default:
      setTitle("Not found");
      replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: `${base}/`, "data-nav": true }, "Go to your dashboard")));
  }
}

function header(customer: Customer, current: string): HTMLElement {
  const links: [string, string][] = [
    ["", "Dashboard"],
    ["invoices", "Invoices"],
    ["estimates", "Estimates"],
    ["payments", "Payments"],
    ["statement", "Statement"],
    ["pay", "Pay"],
  ];
  if (customer.capabilities.showProjectsAndTimesheets) links.push(["projects", "Projects"]);
  links.push(["account", "Account"]);
  const signOut = h("button", { type: "button", class: "link-button" }, "Sign out");
  signOut.addEventListener("click", async () => {
    try {
      await customer.api.request("mutation { logout }");
    } catch {
      /* signed out either way */
    }
    saveToken(customer.api.side, null);
    void live?.client.dispose();
    live = null;
    navigate(`${customer.base}/`);
  });
  return h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h("p", { class: "brand" }, h("a", { href: `${customer.base}/`, "data-nav": true }, customer.businessName)),
    h(
      "nav",
      { "aria-label": "Portal" },
      h(
        "ul",
        {},
        links.map(([path, label]) =>
          h("li", {}, h("a", { href: `${customer.base}/${path}`, "data-nav": true, "aria-current": path === current ? "page" : null }, label)),
        ),
        h("li", {}, signOut),
      ),
    ),
  );
}

export function footer(name: string): HTMLElement {
  return h("footer", { class: "bottom" }, h("p", {}, `${name} · customer portal`));
}

function showMessage(root: HTMLElement, title: string, message: string): void {
  document.title = title;
  replace(root, h("main", { id: "main", class: "narrow" }, h("h1", {}, title), h("p", { class: "status status-error", role: "alert" }, message)));
}

function signInPage(root: HTMLElement, api: Api, portalName: string, business: NonNullable<PublicPortal>, setTitle: (t: string) => void): void {
  setTitle("Sign in");
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = statusLine();
  const customerChoice = h("div", {});
  let customerId: string | null = null;
  const form = h(
    "form",
    { class: "card stack", novalidate: false },
    field("Email", email),
    field("Password", password),
    customerChoice,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status,
  );
  onSubmit(
    form,
    status,
    async () => {
      try {
        const { login } = await api.request<{ login: { token: string } }>(
          "mutation Login($portal: String!, $email: String!, $password: String!, $customerId: ID) { login(portalName: $portal, email: $email, password: $password, customerId: $customerId) { token } }",
          { portal: portalName, email: email.value.trim(), password: password.value, customerId },
        );
        saveToken(api.side, login.token);
        navigate(location.pathname, { replace: true });
      } catch (error) {
        const choices = error instanceof ApiError ? (error.extensions.customers as { id: string; displayName: string }[] | undefined) : undefined;
        if (!choices?.length) throw error;
        const select = h("select", { name: "customer" }, choices.map((choice) => h("option", { value: choice.id }, choice.displayName)));
        customerId = choices[0]!.id;
        select.addEventListener("change", () => (customerId = select.value));
        replace(customerChoice, field("Sign in for", select, "Your email is a contact of several customers: choose one."));
        status.say("Choose the customer to sign in for, then sign in again.", "info");
      }
    },
    explain,
  );
  replace(
    root,
    h(
      "main",
      { id: "main", class: "narrow" },
      h("p", { class: "brand-large" }, business.name),
      business.bannerMessage ? h("p", { class: "banner" }, business.bannerMessage) : null,
      h("h1", {}, "Sign in to your portal"),
      form,
      h("p", { class: "muted" }, "New here? Use the invitation link in the email you received to set your password."),
    ),
    footer(business.name),
  );
}

function acceptInvitePage(root: HTMLElement, api: Api, businessName: string, base: string, setTitle: (t: string) => void): void {
  setTitle("Accept your invitation");
  const token = new URLSearchParams(location.search).get("token") ?? "";
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true, minlength: 10 });
  const again = h("input", { type: "password", name: "confirm-password", autocomplete: "new-password", required: true, minlength: 10 });
  const status = statusLine();
  const form = h(
    "form",
    { class: "card stack" },
    field("New password", password, "At least 10 characters; avoid common words."),
    field("Repeat the password", again),
    h("button", { type: "submit", class: "primary" }, "Set password and sign in"),
    status,
  );
  onSubmit(
    form,
    status,
    async () => {
      if (password.value !== again.value) throw new Error("The two passwords differ.");
      const { acceptInvite } = await api.request<{ acceptInvite: { token: string } }>(
        "mutation AcceptInvite($token: String!, $password: String!) { acceptInvite(token: $token, password: $password) { token } }",
        { token, password: password.value },
      );
      saveToken(api.side, acceptInvite.token);
      navigate(`${base}/`, { replace: true });
    },
    explain,
  );
  replace(
    root,
    h(
      "main",
      { id: "main", class: "narrow" },
      h("p", { class: "brand-large" }, businessName),
      h("h1", {}, "Accept your invitation"),
      token ? h("p", {}, `${businessName} invited you to its customer portal. Choose a password to sign in.`) : h("p", { class: "status status-error", role: "alert" }, "This link has no invitation token. Open the link from your email again."),
      token ? form : null,
    ),
    footer(businessName),
  );
}
