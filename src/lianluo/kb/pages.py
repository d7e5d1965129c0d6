"""Knowledge-base pages: /kb (search and article view), the editor and the review queue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
