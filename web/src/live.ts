// graphql-transport-ws through graphql-ws: one client per signed-in page, reconnecting by itself, each
// subscription resuming with `after` at the last cursor it received (the payload graphql-ws resends).
import { createClient, type Client } from "graphql-ws";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function liveClient(token: string, onStatus: (status: "connected" | "reconnecting") => void): Client {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  return createClient({
    url,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: Infinity,
    retryWait: (retries) => sleep(Math.min(500 * 2 ** retries, 15_000) + Math.random() * 500),
    shouldRetry: (closed) => (closed as { code?: number }).code !== 4403,
    on: {
      connected: () => onStatus("connected"),
      closed: () => onStatus("reconnecting"),
    },
  });
}

export type Cursored = { cursor: string };

/** Subscribes with `after`; every event moves `after` forward, so a reconnect resumes where it was. */
export function follow<T extends Cursored>(
  client: Client,
  query: string,
  field: string,
  after: string | null,
  onEvent: (event: T) => void,
  onError: (message: string) => void,
): () => void {
  const payload = { query, variables: { after } as { after: string | null } };
  return client.subscribe<Record<string, T>>(payload, {
    next: ({ data, errors }) => {
      if (errors?.length) return onError(errors[0].message);
      const event = data?.[field];
      if (!event) return;
      payload.variables.after = event.cursor;
      onEvent(event);
    },
    error: (error) => onError(error instanceof Error ? error.message : "The live connection closed."),
    complete: () => {},
  });
}
