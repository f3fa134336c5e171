"""What an endpoint is: its route, its handler, what it needs of the caller, and what it
answers. The route table (`routes.py`) is a tuple of these; the router, the access
middleware and the OpenAPI document are all built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aiohttp.typedefs import Handler
from pydantic import BaseModel

Access = Literal["public", "credential", "signed-url", "credential-or-signed-url"]
"""public: nobody is asked; credential: an API key or token in `Authorization`;
signed-url: the kid, exp and sig of the query (`/v1/t/`); credential-or-signed-url: the
query's signature when it carries one (a render's `public_url`), else the header."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One documented answer: a JSON model, or image bytes."""

    description: str
    model: type[BaseModel] | None = None
    media: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route. `access` says who may call it; `operation` is the scope operation the
    caller needs, and `template_param` names a path parameter holding a template id that
    must be within the caller's scopes too: both checked before the handler runs, unless
    the route `renders`, when the render pipeline checks the operation with the template,
    format and size it alone knows (once, in one place)."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access = "credential"
    operation: str | None = None
    template_param: str | None = None
    renders: bool = False
    admin: bool = False  # only a credential whose scopes allow everything
    body: type[BaseModel] | None = None
    raw_body: tuple[str, ...] = ()  # a non-JSON body's media types (an SVG, a font)
    query: type[BaseModel] | None = None
    answers: dict[int, Answer] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
