"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from paytriage.adapters.storage.cases import CaseRepository
from paytriage.adapters.storage.database import Database

__all__ = ["CasesDep", "SessionDep", "get_session"]


def get_session(request: Request) -> Iterator[Session]:
    db: Database = request.app.state.db
    with db.session() as session:
        yield session


#: ``scope="function"``: the session commits when the route returns, before the response is sent, so
#: the page a form redirects to (or the next API call) reads what was just written; with the default
#: scope the commit ran after the redirect reached the browser, which could show the old state.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_cases(session: SessionDep) -> CaseRepository:
    return CaseRepository(session)


CasesDep = Annotated[CaseRepository, Depends(get_cases)]
