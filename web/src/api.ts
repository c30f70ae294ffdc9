// GraphQL over HTTP (POST /graphql with a bearer token) and the session tokens the pages keep.

export class ApiError extends Error {
  constructor(message: string, readonly code: string, readonly field?: string, readonly extensions: Record<string, unknown> = {}) {
    super(message);
  }
}

type GraphQLResponse<T> = {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } & Record<string, unknown> }[];
};

export type Side = { kind: "portal"; portalName: string } | { kind: "owner" };

const tokenKey = (side: Side) => (side.kind === "owner" ? "owner-token" : `portal-token:${side.portalName}`);

export function savedToken(side: Side): string | null {
  return localStorage.getItem(tokenKey(side));
}

export function saveToken(side: Side, token: string | null): void {
  if (token) localStorage.setItem(tokenKey(side), token);
  else localStorage.removeItem(tokenKey(side));
}

/** What went wrong, in words a person can act on. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "UNAUTHENTICATED") return "Your session has ended. Please sign in again.";
    return error.message;
  }
  if (error instanceof TypeError) return "The portal cannot be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

export class Api {
  constructor(readonly side: Side, public onSignedOut: () => void = () => {}) {}

  get token(): string | null {
    return savedToken(this.side);
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    const token = this.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    let body: GraphQLResponse<T>;
    try {
      body = (await response.json()) as GraphQLResponse<T>;
    } catch {
      throw new ApiError(`The portal answered with an error (HTTP ${response.status}). Please try again.`, "HTTP");
    }
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code ?? "INTERNAL_SERVER_ERROR";
      if (code === "UNAUTHENTICATED" && token) {
        saveToken(this.side, null);
        this.onSignedOut();
      }
      const message = code === "INTERNAL_SERVER_ERROR" ? "Something went wrong on our side. Please try again." : first.message;
      throw new ApiError(message, code, first.extensions?.field, first.extensions ?? {});
    }
    return body.data as T;
  }

  /** A PDF fetched with the bearer token, opened from a blob: URL (the link itself needs the header). */
  async openPdf(url: string, target: Window | null): Promise<void> {
    const path = new URL(url, location.href);
    const response = await fetch(path.pathname + path.search, { headers: { authorization: `Bearer ${this.token ?? ""}` } });
    if (!response.ok) throw new ApiError(`The PDF could not be made (HTTP ${response.status}).`, "HTTP");
    const blobUrl = URL.createObjectURL(await response.blob());
    if (target) target.location.href = blobUrl;
    else location.assign(blobUrl);
    setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
  }
}
