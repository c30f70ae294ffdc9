// Apollo Client (POST): sign in as the demo contact, then page invoices; relayStylePagination merges the pages.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { relayStylePagination } from "@apollo/client/utilities";
import { Invoices, Login } from "./operations";

let token: string | null = null;

const client = new ApolloClient({
  link: ApolloLink.from([
    new SetContextLink(({ headers }) => ({ headers: { ...headers, ...(token && { authorization: `Bearer ${token}` }) } })),
    new HttpLink({ uri: process.env.PORTAL_URL ?? "http://127.0.0.1:8000/graphql" }),
  ]),
  cache: new InMemoryCache({
    // The filters are the cache key; first and after only page.
    typePolicies: { Query: { fields: { invoices: relayStylePagination(["status", "statuses", "kind", "customerId"]) } } },
  }),
});

const login = await client.mutate({
  mutation: Login,
  variables: { portalName: "demo", email: "alice@acme.example.com", password: "demo-password" },
});
if (!login.data) throw login.error;
token = login.data.login.token;

const invoices = client.watchQuery({ query: Invoices, variables: { first: 2 } });
const watching = invoices.subscribe(() => {});
let page = await invoices.refetch();
for (;;) {
  if (!page.data) throw page.error;
  const merged = invoices.getCurrentResult(); // every page so far
  if (merged.dataState !== "complete") throw new Error(`invoices are ${merged.dataState}`);
  const { edges, pageInfo } = merged.data.invoices;
  console.log(JSON.stringify({ numbers: edges.map((edge) => edge.node.number) }));
  if (!pageInfo.hasNextPage) break;
  page = await invoices.fetchMore({ variables: { after: pageInfo.endCursor } });
}
watching.unsubscribe();
