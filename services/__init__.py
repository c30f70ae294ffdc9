"""Use cases that span several transactions, named where they live."""
