import "./styles.css";
import { h, replace } from "./dom";
import { customerPage } from "./customer/app";
import { ownerPage } from "./owner/app";
import { startRouter, type Cleanup } from "./router";

const root = document.getElementById("app")!;
let cleanup: Cleanup;

async function render(): Promise<void> {
  if (cleanup) cleanup();
  cleanup = undefined;
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "portal" && parts[1]) {
    cleanup = await customerPage(root, parts[1], parts.slice(2));
  } else if (parts[0] === "owner") {
    cleanup = await ownerPage(root, parts.slice(1));
  } else {
    document.title = "Customer portal";
    replace(
      root,
      h(
        "main",
        { id: "main", class: "narrow" },
        h("h1", {}, "Customer portal"),
        h("h2", {}, "Customers"),
        h("p", {}, "Open the link your business sent you (in their invitation or any of their emails). Each business has its own portal at"),
        h("p", {}, h("code", {}, `${location.origin}/portal/<portal name>/`)),
        h("p", {}, "where the portal name is the one the business chose; ask them for it if you have no link."),
        h("h2", {}, "The business"),
        h("ul", {}, h("li", {}, h("a", { href: "/owner/", "data-nav": true }, "The owner's page")), h("li", {}, h("a", { href: "/graphql" }, "The API explorer (GraphiQL)"), ", where the server turns it on")),
      ),
    );
  }
}

startRouter(() => void render());
