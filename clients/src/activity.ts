// graphql-ws: the owner follows portal activity; every reconnect resumes from the last cursor received.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { graphql } from "./gql";
import type { PortalActivitySubscription } from "./gql/graphql";

const url = process.env.PORTAL_URL ?? "http://127.0.0.1:8000/graphql";

const PortalActivity = graphql(`
  subscription PortalActivity($after: String) {
    portalActivity(after: $after) { cursor kind occurredAt summary comment { body } }
  }
`);

type ActivityEvent = PortalActivitySubscription["portalActivity"];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function activityClient(token: string): Client {
  return createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket, // Node only: browsers have WebSocket
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity, // 1012 (restart), 1013 (fell behind), 1006 (network): always come back
    retryWait: (retries) => sleep(Math.min(1000 * 2 ** retries, 30_000) + Math.random() * 1000),
    shouldRetry: (closed) => (closed as { code?: number }).code !== 4403, // 4403: sign in again
  });
}

function followActivity(client: Client, after: string | null, onEvent: (event: ActivityEvent) => void) {
  // graphql-ws resends this same payload on every reconnect: keep `after` at the last cursor received.
  const payload = { query: print(PortalActivity), variables: { after } };
  return client.subscribe<PortalActivitySubscription>(payload, {
    next: ({ data, errors }) => {
      if (!data) throw new Error(JSON.stringify(errors));
      payload.variables.after = data.portalActivity.cursor;
      onEvent(data.portalActivity);
    },
    error: (error) => console.error(error),
    complete: () => {},
  });
}

const StaffLogin = graphql(`
  mutation StaffLogin($email: String!, $password: String!) { staffLogin(email: $email, password: $password) { token } }
`);
const LatestActivity = graphql(`
  query LatestActivity { activity(first: 1) { pageInfo { endCursor } } }
`);

async function request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables,
                                          token?: string): Promise<Result> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = await response.json();
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// Run as a script: sign in as the demo owner, then print each event (and each reconnect) as a JSON line;
// PORTAL_EVENTS=n stops after n events.
const log = (line: object) => console.log(JSON.stringify(line));
const { staffLogin } = await request(StaffLogin, { email: "owner@northwind.example.com", password: "demo-owner-password" });
const after = (await request(LatestActivity, {}, staffLogin.token)).activity.pageInfo.endCursor ?? null;
log({ after });
const client = activityClient(staffLogin.token);
client.on("connected", () => log({ connected: true }));
client.on("closed", (closed) => log({ closed: (closed as { code?: number }).code }));
let remaining = Number(process.env.PORTAL_EVENTS ?? Infinity);
const stop = followActivity(client, after, (event) => {
  log({ event });
  if (--remaining === 0) {
    stop();
    void client.dispose();
  }
});
