// GraphiQL for the portal's API, bundled from the graphiql package (no CDN): sign in with a mutation, then
// put {"Authorization": "Bearer <token>"} in the headers tab. Subscriptions go over graphql-transport-ws.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import "./graphiql.css";
import { createRoot } from "react-dom/client";

const url = `${location.origin}/graphql`;
const fetcher = createGraphiQLFetcher({ url, subscriptionUrl: url.replace(/^http/, "ws") });

const defaultQuery = `# The customer portal's API. Sign in, then add the token in the Headers tab:
#   {"Authorization": "Bearer <token>"}
mutation SignIn {
  staffLogin(email: "owner@example.com", password: "your password") { token }
}
`;

createRoot(document.getElementById("graphiql")!).render(<GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />);
