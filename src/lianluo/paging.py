"""Paging shared by every list: ?page=1&page_size=50 -> {items, total, page, page_size}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(
    page: int = Query(1, ge=1, le=1_000_000, description="1-based page number"),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE, description="items per page"),
) -> PageParams:
    return PageParams(page, page_size)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
