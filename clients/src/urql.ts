// urql with graphcache: sign in as the demo contact, then page invoices; relayPagination merges the pages.
import { Client, fetchExchange } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import type { InvoicesQueryVariables } from "./gql/graphql";
import { Invoices, Login } from "./operations";

let token: string | null = null;

const client = new Client({
  url: process.env.PORTAL_URL ?? "http://127.0.0.1:8000/graphql",
  // urql sends queries by GET (within the URL limit) and mutations by POST.
  fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  exchanges: [
    cacheExchange({
      keys: { AuthPayload: () => null, InvoiceConnection: () => null, InvoiceEdge: () => null, PageInfo: () => null },
      resolvers: { Query: { invoices: relayPagination() } },
    }),
    fetchExchange,
  ],
});

const login = await client
  .mutation(Login, { portalName: "demo", email: "alice@acme.example.com", password: "demo-password" })
  .toPromise();
if (!login.data) throw login.error;
token = login.data.login.token;

const variables: InvoicesQueryVariables = { first: 2 };
for (;;) {
  const page = await client.query(Invoices, variables).toPromise();
  if (!page.data) throw page.error;
  const { edges, pageInfo } = page.data.invoices; // every page so far, merged
  console.log(JSON.stringify({ numbers: edges.map((edge) => edge.node.number) }));
  if (!pageInfo.hasNextPage) break;
  variables.after = pageInfo.endCursor;
}
