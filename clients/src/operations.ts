// The operations the client recipes share; `npm run codegen` types them (see codegen.ts).
import { graphql } from "./gql";

export const Login = graphql(`
  mutation Login($portalName: String!, $email: String!, $password: String!) {
    login(portalName: $portalName, email: $email, password: $password) { token }
  }
`);

export const Invoices = graphql(`
  query Invoices($first: Int, $after: String) {
    invoices(first: $first, after: $after) {
      edges { cursor node { id number status dueDate total balanceDue customer { id displayName } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
