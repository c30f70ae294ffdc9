"""Arguments that many root fields share, each described once."""
from typing import Annotated

import strawberry

First = Annotated[int | None, strawberry.argument(description="How many items to return: 0 to 100; 20 when omitted.")]
After = Annotated[str | None, strawberry.argument(
    description="The `endCursor` of the page before: this page starts after it. Omitted: the first page.")]
CustomerFilter = Annotated[strawberry.ID | None, strawberry.argument(
    description="Only this customer's. A contact person may give only their own customer (or leave it out).")]
ContactPersonIds = Annotated[list[strawberry.ID], strawberry.argument(
    description="The contact persons, by id: at least one, each of the organization's customers.")]
CustomerId = Annotated[strawberry.ID, strawberry.argument(description="The customer, by id.")]
