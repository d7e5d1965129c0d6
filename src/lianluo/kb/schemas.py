from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from lianluo.tenants.schemas import InputModel

MAX_BODY_CHARS = 100_000
MAX_CONVERSATION_CHARS = 20_000

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class Language(StrEnum):
    zh = "zh"
    en = "en"


class SearchMode(StrEnum):
    """hybrid: BM25 and sentence-embedding neighbours, fused; lexical: BM25 alone."""

    hybrid = "hybrid"
    lexical = "lexical"


class ArticleStatus(StrEnum):
    draft = "draft"
    review = "review"
    published = "published"
    archived = "archived"


class Origin(StrEnum):
    staff = "staff"
    community = "community"


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return None if value is None else value.strip()


def _distinct_tags(tags: list[str] | None) -> list[str] | None:
    return None if tags is None else list(dict.fromkeys(tags))


class _ArticleFields(InputModel):
    check_title = field_validator("title", check_fields=False)(_not_blank)
    check_body = field_validator("body", check_fields=False)(_not_blank)
    check_tags = field_validator("tags", check_fields=False)(_distinct_tags)


class ArticleIn(_ArticleFields):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, description="markdown")
    language: Language
    category: str = Field("", max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class ArticleUpdate(_ArticleFields):
    """Every change is saved as a new version; a published article stays live in its published
    version until the new one is published."""

    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=MAX_BODY_CHARS)
    language: Language | None = None
    category: str | None = Field(None, max_length=100)
    tags: list[Tag] | None = Field(None, max_length=20)
    note: str = Field("", max_length=500, description="what changed, kept with the version")


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    language: str
    title: str
    body: str
    body_html: str = ""
    category: str
    tags: list[str]
    status: str
    origin: str
    author_user_id: str | None
    author_customer_id: str | None
    version: int
    published_version: int | None
    published_at: datetime | None
    helpful_count: int
    not_helpful_count: int
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    article_id: str
    version: int
    language: str
    title: str
    body: str
    category: str
    tags: list[str]
    author_user_id: str | None
    author_customer_id: str | None
    note: str
    created_at: datetime


class FeedbackIn(InputModel):
    helpful: bool


class FeedbackOut(BaseModel):
    article_id: str
    helpful: bool
    helpful_count: int
    not_helpful_count: int


class SearchHit(BaseModel):
    article_id: str
    title: str
    language: str
    category: str
    tags: list[str]
    score: float
    snippet: str = Field(description="plain text around the matches")
    snippet_html: str = Field(description="the snippet, HTML-escaped, matches in <mark>")
    title_html: str
    helpful_count: int
    not_helpful_count: int


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int
    page: int
    page_size: int
    terms: list[str] = Field(description="the query's index terms after segmentation")


class SuggestIn(InputModel):
    text: str | None = Field(
        None, max_length=MAX_CONVERSATION_CHARS, description="the conversation so far"
    )
    conversation_id: str | None = Field(
        None, max_length=32, description="or: read the conversation's messages"
    )
    language: Language | None = Field(None, description="only articles in this language")
    limit: int = Field(5, ge=1, le=20)

    @model_validator(mode="after")
    def _one_source(self) -> SuggestIn:
        if (self.text is None) == (self.conversation_id is None):
            raise ValueError("give either text or conversation_id")
        return self


class SuggestOut(BaseModel):
    items: list[SearchHit]
    terms: list[str]


class RenderIn(InputModel):
    body: str = Field(max_length=MAX_BODY_CHARS)


class RenderOut(BaseModel):
    html: str


class ContributorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: str
    key_prefix: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None


class ContributorKeyOut(ContributorOut):
    key: str = Field(description="shown once; only its hash is stored")


class CommunityIn(_ArticleFields):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, description="markdown")
    language: Language
    category: str = Field("", max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


SYNONYM_MEMBER = Annotated[str, Field(min_length=1, max_length=40)]


class SynonymsIn(InputModel):
    """A tenant's own synonym groups: each group's members (words or short phrases, Chinese or
    English) find one another's articles, beside the built-in groups."""

    groups: list[Annotated[list[SYNONYM_MEMBER], Field(min_length=2, max_length=20)]] = Field(
        max_length=1000,
        examples=[[["宽带", "光纤", "fiber broadband"], ["无忧卡", "流量包"]]],
    )

    @field_validator("groups")
    @classmethod
    def _clean(cls, groups: list[list[str]]) -> list[list[str]]:
        cleaned: list[list[str]] = []
        for i, group in enumerate(groups):
            members: list[str] = []
            for member in group:
                text = " ".join(member.split())
                if not text:
                    raise ValueError(f"group {i + 1}: a member is blank")
                if "\x00" in text:
                    raise ValueError(f"group {i + 1}: a member holds a NUL character")
                if text.casefold() not in {m.casefold() for m in members}:
                    members.append(text)
            if len(members) < 2:
                raise ValueError(f"group {i + 1} needs two different members: {group}")
            cleaned.append(members)
        return cleaned


class SynonymsOut(BaseModel):
    groups: list[list[str]]
    updated_at: datetime | None = None
    builtin_groups: int = Field(description="how many built-in groups are searched as well")
