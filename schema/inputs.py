"""Reading input objects: what the client sent, and what it left out."""
import strawberry


def sent(input) -> dict:
    """Only the fields the client actually sent; an explicit null is kept as None."""
    return {key: value for key, value in vars(input).items() if value is not strawberry.UNSET}


def values(input) -> dict:
    """Every field, with the ones left out as None."""
    return {key: None if value is strawberry.UNSET else value for key, value in vars(input).items()}


def value(given):
    return None if given is strawberry.UNSET else given
