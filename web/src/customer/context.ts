import type { Client } from "graphql-ws";
import type { Api } from "../api";

export type Capabilities = {
  bannerMessage: string | null;
  allowForwarding: boolean;
  showProjectsAndTimesheets: boolean;
  allowCustomersToEditDetails: boolean;
  paymentMethods: string[];
};

export type Customer = {
  api: Api;
  portalName: string;
  businessName: string;
  capabilities: Capabilities;
  live: () => Client;
  base: string;
  setTitle: (title: string) => void;
};
