// The operations the pages send: every one is part of the public API (../shared/contract/portal.graphql).

export const COMMENT_FIELDS = "id body authorName byStaff visibleInPortal createdAt";

export const DOCUMENT = `query Document($id: ID!) {
  node(id: $id) {
    __typename
    ... on Invoice { id number date dueDate invoiceStatus: status currency subTotal taxTotal total amountPaid balanceDue
      paymentOptions viewedAt pdfUrl kind
      lineItems { name description quantity rate taxPercent amount }
      payments { id number date amount currency method reference }
      comments { ${COMMENT_FIELDS} } customer { id displayName } }
    ... on Estimate { id number date expiryDate estimateStatus: status currency subTotal taxTotal total viewedAt pdfUrl
      acceptedAt declinedAt declineReason
      lineItems { name description quantity rate taxPercent amount }
      comments { ${COMMENT_FIELDS} } customer { id displayName } }
  }
}`;

export type Comment = { id: string; body: string; authorName: string; byStaff: boolean; visibleInPortal: boolean; createdAt: string };
export type Line = { name: string; description: string | null; quantity: string; rate: string; taxPercent: string; amount: string };
export type PaymentRow = { id: string; number: string; date: string; amount: string; currency: string; method: string; reference: string | null };
export type DocumentData = {
  __typename: "Invoice" | "Estimate";
  id: string;
  number: string;
  date: string;
  dueDate?: string;
  expiryDate?: string | null;
  invoiceStatus?: string;
  estimateStatus?: string;
  currency: string;
  subTotal: string;
  taxTotal: string;
  total: string;
  amountPaid?: string;
  balanceDue?: string;
  paymentOptions?: string[];
  viewedAt: string | null;
  pdfUrl: string;
  kind?: string;
  acceptedAt?: string | null;
  declinedAt?: string | null;
  declineReason?: string | null;
  lineItems: Line[];
  payments?: PaymentRow[];
  comments: Comment[];
  customer: { id: string; displayName: string };
};

export const statusOf = (document: DocumentData) => (document.invoiceStatus ?? document.estimateStatus)!;

export const ADD_COMMENT = `mutation AddComment($id: ID!, $body: String!, $visible: Boolean) {
  addComment(subjectId: $id, body: $body, visibleInPortal: $visible) { ${COMMENT_FIELDS} }
}`;
