// One estimate or invoice: opening it marks it viewed; comments, accept/decline, pay, forward, PDF;
// the owner's replies, payments and voids arrive live through portalUpdates, and so does an estimate
// leaving the portal to be revised (an update with no subject): the page then says so, until it is sent again.
import { ApiError, explain } from "../api";
import { commentList, documentTitle, facts, lines, payments } from "../document-view";
import { field, h, replace, statusLine, onSubmit } from "../dom";
import { follow } from "../live";
import { ADD_COMMENT, DOCUMENT, statusOf, type DocumentData } from "../queries";
import type { Customer } from "./context";
import { failed, loadingInto } from "./lists";

const PORTAL_UPDATES = `subscription PortalUpdates($after: String) {
  portalUpdates(after: $after) { cursor kind summary subject { id } comment { id } }
}`;
type Update = { cursor: string; kind: string; summary: string; subject: { id: string } | null; comment: { id: string } | null };

/** The document cannot be loaded (any more): not this contact's to see, or withdrawn from the portal. */
class Gone extends Error {}

export async function documentPage(c: Customer, main: HTMLElement, id: string): Promise<() => void> {
  loadingInto(main, "Document");
  let stop = () => {};
  const heading = h("h1", {}, "Document");
  const summary = h("div", {});
  const actions = h("div", { class: "actions" });
  const body = h("div", {});
  const comments = h("div", {});
  const liveNote = h("p", { class: "muted small", role: "status", "aria-live": "polite" });
  const withdrawn = h("p", { class: "status status-info", role: "status", hidden: true });
  let shown: HTMLElement[] = []; // what is hidden while the document is withdrawn
  let current: DocumentData | null = null;
  let actionsFor = ""; // what the buttons were drawn for: redrawn only when it changes, keeping what is typed

  const load = async () => {
    const { node } = await c.api.request<{ node: DocumentData | null }>(DOCUMENT, { id }).catch((error: unknown) => {
      throw error instanceof ApiError && error.code === "NOT_FOUND" ? new Gone(error.message) : error;
    });
    if (!node || (node.__typename !== "Invoice" && node.__typename !== "Estimate")) throw new Gone("This document does not exist or is not yours to see.");
    current = node;
    withdrawn.hidden = true;
    shown.forEach((part) => (part.hidden = false));
    c.setTitle(documentTitle(node));
    heading.textContent = documentTitle(node);
    replace(summary, facts(node));
    const state = `${statusOf(node)} ${node.balanceDue ?? ""}`;
    if (state !== actionsFor) {
      actionsFor = state;
      replace(actions, ...documentActions(c, node, refresh));
    }
    replace(body, lines(node), payments(node));
    replace(comments, commentList(node.comments));
  };
  const refresh = async () => {
    try {
      await load();
    } catch (error) {
      if (error instanceof Gone && current) return showWithdrawn(current);
      liveNote.textContent = explain(error);
    }
  };
  const showWithdrawn = (was: DocumentData) => {
    shown.forEach((part) => (part.hidden = true));
    withdrawn.hidden = false;
    withdrawn.textContent = `${documentTitle(was)} is no longer shown in your portal: the business is revising it. It will be back here once they send it again.`;
    liveNote.textContent = "";
  };

  try {
    await load();
  } catch (error) {
    failed(main, "Document", error);
    return stop;
  }

  // Opening it marks it viewed (the first time only; later calls change nothing).
  void c.api.request("mutation MarkViewed($id: ID!) { markViewed(documentId: $id) { id viewedAt } }", { id }).then(() => {
    if (current && !current.viewedAt) void refresh();
  }, () => {});

  const text = h("textarea", { name: "comment", rows: 3, required: true, maxlength: 5000 });
  const commentStatus = statusLine();
  const commentForm = h("form", { class: "stack" }, field("Your comment", text), h("button", { type: "submit", class: "primary" }, "Add comment"), commentStatus);
  onSubmit(
    commentForm,
    commentStatus,
    async () => {
      if (!text.value.trim()) throw new Error("Write a comment first.");
      await c.api.request(ADD_COMMENT, { id, body: text.value.trim(), visible: true });
      text.value = "";
      commentStatus.say("Comment added.", "ok");
      await refresh();
    },
    explain,
  );

  const commentSection = h("section", { "aria-labelledby": "comments-h" }, h("h2", { id: "comments-h" }, "Comments"), comments, commentForm);
  const forward = c.capabilities.allowForwarding ? forwardSection(c, id) : null;
  shown = [summary, actions, body, commentSection, ...(forward ? [forward] : [])];
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: `${c.base}/${current!.__typename === "Invoice" ? "invoices" : "estimates"}`, "data-nav": true }, current!.__typename === "Invoice" ? "Invoices" : "Estimates")),
    heading,
    withdrawn,
    summary,
    actions,
    body,
    commentSection,
    forward,
    liveNote,
  );

  // Live: anything about this document (a reply, a payment, a void) reloads it in place.
  try {
    stop = follow<Update>(
      c.live(),
      PORTAL_UPDATES,
      "portalUpdates",
      null,
      (update) => {
        if (update.kind === "DOCUMENT_CHANGED" && update.subject === null) return void refresh(); // this one gone?
        if (update.subject?.id !== id) return;
        liveNote.textContent = update.summary;
        void refresh();
      },
      () => {},
    );
  } catch {
    /* live updates are a convenience: the page works without them */
  }
  return () => stop();
}

function documentActions(c: Customer, document: DocumentData, refresh: () => Promise<void>): Node[] {
  const status = statusOf(document);
  const out: Node[] = [];
  const message = statusLine();
  const pdf = h("button", { type: "button", class: "secondary" }, "Download PDF");
  pdf.addEventListener("click", async () => {
    const target = window.open("", "_blank");
    try {
      await c.api.openPdf(document.pdfUrl, target);
    } catch (error) {
      target?.close();
      message.say(explain(error), "error");
    }
  });
  out.push(pdf);
  if (document.__typename === "Invoice" && ["SENT", "OVERDUE", "PARTIALLY_PAID"].includes(status) && document.paymentOptions?.some((o) => o !== "OFFLINE")) {
    out.push(h("a", { class: "button primary", href: `${c.base}/pay?invoice=${encodeURIComponent(document.id)}`, "data-nav": true }, "Pay now"));
  }
  if (document.__typename === "Estimate" && status === "SENT") {
    const accept = h("button", { type: "button", class: "primary" }, "Accept estimate");
    accept.addEventListener("click", async () => {
      accept.disabled = true;
      try {
        await c.api.request("mutation Accept($id: ID!) { acceptEstimate(id: $id) { id status } }", { id: document.id });
        await refresh();
      } catch (error) {
        message.say(explain(error), "error");
        accept.disabled = false;
      }
    });
    const reason = h("textarea", { name: "reason", rows: 2, maxlength: 2000 });
    const declineForm = h("form", { class: "stack decline" }, field("Reason for declining (optional)", reason), h("button", { type: "submit", class: "danger" }, "Decline estimate"));
    onSubmit(
      declineForm,
      message,
      async () => {
        await c.api.request("mutation Decline($id: ID!, $reason: String) { declineEstimate(id: $id, reason: $reason) { id status } }", {
          id: document.id,
          reason: reason.value.trim() || null,
        });
        await refresh();
      },
      explain,
    );
    out.push(accept, h("details", {}, h("summary", {}, "Decline…"), declineForm));
  }
  out.push(message);
  return out;
}

function forwardSection(c: Customer, id: string): HTMLElement {
  const email = h("input", { type: "email", name: "forward-email", required: true, autocomplete: "email" });
  const name = h("input", { type: "text", name: "forward-name", autocomplete: "name" });
  const note = h("textarea", { name: "forward-message", rows: 2, maxlength: 2000 });
  const status = statusLine();
  const form = h("form", { class: "stack" }, field("Their email", email), field("Their name (optional)", name), field("Message (optional)", note), h("button", { type: "submit", class: "secondary" }, "Forward"), status);
  onSubmit(
    form,
    status,
    async () => {
      await c.api.request("mutation Forward($id: ID!, $email: String!, $name: String, $message: String) { forwardDocument(documentId: $id, email: $email, name: $name, message: $message) { id } }", {
        id,
        email: email.value.trim(),
        name: name.value.trim() || null,
        message: note.value.trim() || null,
      });
      status.say(`Sent to ${email.value.trim()}.`, "ok");
      form.reset();
    },
    explain,
  );
  return h("section", { "aria-labelledby": "forward-h" }, h("details", {}, h("summary", {}, h("h2", { id: "forward-h", class: "inline" }, "Forward to a colleague")), form));
}
