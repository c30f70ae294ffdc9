// The business owner's side: /owner/ (sign-in, then the live activity feed) and /owner/documents/<id>.
import type { Client } from "graphql-ws";
import { Api, explain, saveToken } from "../api";
import { commentList, documentTitle, facts, lines, payments } from "../document-view";
import { field, h, moment, onSubmit, replace, statusLine, words } from "../dom";
import { follow, liveClient } from "../live";
import { ADD_COMMENT, DOCUMENT, type DocumentData } from "../queries";
import { navigate, type Cleanup } from "../router";
import { footer } from "../customer/app";

type Event = {
  id: string;
  cursor: string;
  kind: string;
  occurredAt: string;
  summary: string;
  customer: { displayName: string };
  contactPerson: { firstName: string; lastName: string | null; email: string } | null;
  subject: { __typename: string; id: string; number?: string; name?: string } | null;
  comment: { body: string } | null;
};
const EVENT_FIELDS = `id cursor kind occurredAt summary customer { displayName } contactPerson { firstName lastName email }
  subject { __typename id ... on Invoice { number } ... on Estimate { number } ... on Payment { number } ... on Project { name } }
  comment { body }`;
const COUNTED = { VIEWED: "Views", COMMENTED: "Comments", PAYMENT_RECEIVED: "Payments" } as const;

export async function ownerPage(root: HTMLElement, path: string[]): Promise<Cleanup> {
  const api = new Api({ kind: "owner" }, () => navigate("/owner/"));
  if (!api.token) return signIn(root, api);
  let organization: { id: string; name: string };
  try {
    organization = (await api.request<{ organization: { id: string; name: string } }>("{ organization { id name } }")).organization;
  } catch (error) {
    if (!api.token) return signIn(root, api);
    replace(root, h("main", { id: "main", class: "narrow" }, h("h1", {}, "Owner"), h("p", { class: "status status-error", role: "alert" }, explain(error))));
    return;
  }
  const setTitle = (title: string) => (document.title = `${title} · ${organization.name}`);
  const signOut = h("button", { type: "button", class: "link-button" }, "Sign out");
  signOut.addEventListener("click", async () => {
    await api.request("mutation { logout }").catch(() => {});
    saveToken(api.side, null);
    navigate("/owner/");
  });
  const main = h("main", { id: "main" });
  replace(
    root,
    h(
      "header",
      { class: "top" },
      h("a", { class: "skip", href: "#main" }, "Skip to content"),
      h("p", { class: "brand" }, h("a", { href: "/owner/", "data-nav": true }, organization.name)),
      h("nav", { "aria-label": "Owner" }, h("ul", {}, h("li", {}, h("a", { href: "/owner/", "data-nav": true, "aria-current": path[0] ? null : "page" }, "Activity")), h("li", {}, h("a", { href: "/graphql" }, "API explorer")), h("li", {}, signOut))),
    ),
    main,
    footer(organization.name),
  );
  if (path[0] === "documents" && path[1]) return ownerDocument(api, main, path[1], setTitle);
  if (path[0]) {
    setTitle("Not found");
    replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/owner/", "data-nav": true }, "Back to the activity")));
    return;
  }
  return feed(api, main, organization.id, setTitle);
}

function signIn(root: HTMLElement, api: Api): void {
  document.title = "Owner sign-in";
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = statusLine();
  const form = h("form", { class: "card stack" }, field("Email", email), field("Password", password), h("button", { type: "submit", class: "primary" }, "Sign in"), status);
  onSubmit(form, status, async () => {
    const { staffLogin } = await api.request<{ staffLogin: { token: string } }>(
      "mutation StaffLogin($email: String!, $password: String!) { staffLogin(email: $email, password: $password) { token } }",
      { email: email.value.trim(), password: password.value },
    );
    saveToken(api.side, staffLogin.token);
    navigate(location.pathname, { replace: true });
  }, explain);
  replace(root, h("main", { id: "main", class: "narrow" }, h("p", { class: "brand-large" }, "Customer portal"), h("h1", {}, "Business owner sign-in"), form));
}

function subjectLink(event: Event): Node | string {
  const s = event.subject;
  if (!s) return "";
  if (s.__typename === "Invoice" || s.__typename === "Estimate") return h("a", { href: `/owner/documents/${s.id}`, "data-nav": true }, `${s.__typename} ${s.number}`);
  if (s.__typename === "Payment") return `Payment ${s.number}`;
  if (s.__typename === "Project") return `Project ${s.name}`;
  return "";
}

function today(value: string): boolean {
  return new Date(value).toDateString() === new Date().toDateString();
}

async function feed(api: Api, main: HTMLElement, organizationId: string, setTitle: (t: string) => void): Promise<() => void> {
  setTitle("Activity");
  const cursorKey = `owner-activity-cursor:${organizationId}`;
  const seen = new Set<string>();
  const counts: Record<string, number> = { VIEWED: 0, COMMENTED: 0, PAYMENT_RECEIVED: 0 };
  const countList = h("dl", { class: "counts" });
  const list = h("ol", { class: "feed", reversed: true, "aria-live": "polite", "aria-relevant": "additions" });
  const connection = h("p", { class: "muted small", role: "status" }, "Connecting…");
  const problem = statusLine();
  const drawCounts = () =>
    replace(countList, Object.entries(COUNTED).map(([kind, label]) => h("div", { class: "count" }, h("dt", {}, `${label} today`), h("dd", { "data-kind": kind }, String(counts[kind])))));
  const add = (event: Event, live: boolean, older = false) => {
    if (seen.has(event.cursor)) return;
    seen.add(event.cursor);
    if (live && event.kind in counts && today(event.occurredAt)) counts[event.kind]! += 1;
    const who = event.contactPerson ? `${event.contactPerson.firstName} ${event.contactPerson.lastName ?? ""}`.trim() : event.customer.displayName;
    const item = h(
      "li",
      { class: `event event-${event.kind.toLowerCase()}`, "data-cursor": event.cursor },
      h("p", { class: "event-head" }, h("span", { class: "badge" }, words(event.kind)), " ", h("strong", {}, who), ` (${event.customer.displayName}) `, subjectLink(event)),
      h("p", {}, event.summary),
      event.comment ? h("blockquote", {}, event.comment.body) : null,
      h("p", { class: "muted small" }, h("time", { datetime: event.occurredAt }, moment(event.occurredAt))),
    );
    if (older) {
      list.append(item); // below what is shown: an older event
      return;
    }
    list.prepend(item); // newest first
    localStorage.setItem(cursorKey, event.cursor);
    drawCounts();
  };

  replace(main, h("h1", {}, "Portal activity"), h("section", { "aria-labelledby": "today-h" }, h("h2", { id: "today-h" }, "Today"), countList), h("section", { "aria-labelledby": "feed-h" }, h("h2", { id: "feed-h" }, "Latest events"), connection, problem, list));
  drawCounts();

  type Page = { edges: { node: Event }[]; pageInfo: { hasPreviousPage: boolean; hasNextPage?: boolean; startCursor: string | null; endCursor: string | null } };
  const lastSeen = localStorage.getItem(cursorKey);
  let after: string | null = lastSeen;
  try {
    const { activity } = await api.request<{ activity: Page }>(`query Latest { activity(last: 50) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasPreviousPage startCursor endCursor } } }`);
    for (const { node } of activity.edges) add(node, false);
    if (activity.edges.at(-1)) localStorage.setItem(cursorKey, activity.edges.at(-1)!.node.cursor);
    // Back after a while: what happened since the last event this browser showed, when more than the latest page.
    if (lastSeen && activity.edges.length && !seen.has(lastSeen)) await showMissed(lastSeen);
    after = activity.pageInfo.endCursor ?? activity.edges.at(-1)?.node.cursor ?? after;
    // Today's counts, from the activity query: this page, then back through older pages while they are today's.
    let page = activity;
    const countPage = (p: Page) => p.edges.forEach(({ node }) => node.kind in counts && today(node.occurredAt) && (counts[node.kind]! += 1));
    countPage(page);
    while (page.pageInfo.hasPreviousPage && page.edges[0] && today(page.edges[0].node.occurredAt)) {
      page = (await api.request<{ activity: Page }>(`query Older($before: String) { activity(before: $before, last: 100) { edges { node { cursor kind occurredAt } } pageInfo { hasPreviousPage startCursor endCursor } } }`, { before: page.pageInfo.startCursor })).activity;
      countPage(page);
    }
    drawCounts();
    if (!activity.edges.length) list.replaceWith(h("div", {}, h("p", { class: "muted", id: "empty-feed" }, "No activity yet. Events appear here as they happen."), list));
  } catch (error) {
    problem.say(explain(error), "error");
  }

  async function showMissed(since: string): Promise<void> {
    const missed: Event[] = [];
    let from: string | null = since;
    for (let pages = 0; from && pages < 10; pages += 1) {
      const { activity }: { activity: Page } = await api.request<{ activity: Page }>(
        `query Since($after: String) { activity(after: $after, first: 100) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { after: from },
      );
      const fresh = activity.edges.map((edge) => edge.node).filter((event) => !seen.has(event.cursor));
      missed.push(...fresh);
      if (fresh.length < activity.edges.length || !activity.pageInfo.hasNextPage) break;
      from = activity.pageInfo.endCursor;
    }
    for (const event of missed.reverse()) add(event, false, true);
  }

  let client: Client | null = null;
  let stop = () => {};
  const token = api.token;
  if (token) {
    client = liveClient(token, (state) => {
      connection.textContent = state === "connected" ? "Live: new events appear as they happen." : "Reconnecting… events are not lost.";
      document.body.setAttribute("data-live", state);
    });
    stop = follow<Event>(client, `subscription Activity($after: String) { portalActivity(after: $after) { ${EVENT_FIELDS} } }`, "portalActivity", after, (event) => {
      document.getElementById("empty-feed")?.remove();
      add(event, true);
    }, (message) => problem.say(`Live updates stopped: ${message}`, "error"));
  }
  return () => {
    stop();
    void client?.dispose();
  };
}

async function ownerDocument(api: Api, main: HTMLElement, id: string, setTitle: (t: string) => void): Promise<void> {
  replace(main, h("h1", {}, "Document"), h("p", { class: "muted" }, "Loading…"));
  const heading = h("h1", {}, "Document");
  const top = h("div", {});
  const comments = h("div", {});
  const load = async () => {
    const { node } = await api.request<{ node: DocumentData | null }>(DOCUMENT, { id });
    if (!node?.number) throw new Error("This document does not exist.");
    setTitle(documentTitle(node));
    heading.textContent = documentTitle(node);
    replace(top, facts(node), lines(node), payments(node));
    replace(comments, commentList(node.comments, { staffView: true }));
  };
  try {
    await load();
  } catch (error) {
    replace(main, h("h1", {}, "Document"), h("p", { class: "status status-error", role: "alert" }, explain(error)));
    return;
  }
  const text = h("textarea", { name: "reply", rows: 3, required: true });
  const visible = h("input", { type: "checkbox", id: "reply-visible", name: "visible", checked: true });
  const status = statusLine();
  const form = h("form", { class: "stack" }, field("Your reply", text), h("div", { class: "check" }, visible, h("label", { for: "reply-visible" }, "Visible to the customer in the portal")), h("button", { type: "submit", class: "primary" }, "Add reply"), status);
  onSubmit(form, status, async () => {
    await api.request(ADD_COMMENT, { id, body: text.value.trim(), visible: visible.checked });
    text.value = "";
    status.say(visible.checked ? "Reply added; the customer sees it." : "Note added; hidden from the customer.", "ok");
    await load();
  }, explain);
  replace(main, h("p", { class: "crumbs" }, h("a", { href: "/owner/", "data-nav": true }, "Activity")), heading, top, h("section", { "aria-labelledby": "comments-h" }, h("h2", { id: "comments-h" }, "Comments"), comments, form));
}
