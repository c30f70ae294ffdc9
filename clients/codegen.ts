import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  // The live endpoint (introspection), or a file written by `portal schema > schema.graphql`.
  schema: process.env.PORTAL_SCHEMA ?? "http://127.0.0.1:8000/graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        // Money, quantities and times travel as strings: keep them strings, never floats.
        scalars: { Date: "string", DateTime: "string", Decimal: "string" },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
