// Apollo Client (POST): sign in as the demo contact, then page invoices; relayStylePagination merges the pages.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { relayStylePagination } from "@apollo/client/utilities";
import type { Subscription } from "rxjs";
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

// As a page would: show each result, then ask for the next page until there is none.
const invoices = client.watchQuery({ query: Invoices, variables: { first: 2 } });
const watching = await new Promise<Subscription>((resolve, reject) => {
  let shown = 0;
  const subscription = invoices.subscribe(({ data, dataState, error }) => {
    if (error) return reject(error);
    if (dataState !== "complete" || data.invoices.edges.length === shown) return;
    const { edges, pageInfo } = data.invoices; // every page so far, merged
    shown = edges.length;
    console.log(JSON.stringify({ numbers: edges.map((edge) => edge.node.number) }));
    if (pageInfo.hasNextPage) invoices.fetchMore({ variables: { after: pageInfo.endCursor } }).catch(reject);
    else resolve(subscription);
  });
});
watching.unsubscribe();
