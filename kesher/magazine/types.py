"""The magazine's activity type: a member read an article (what loyalty rules and recommendations see)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kesher.activity.registry import activity_type

# Seconds on the page a reading counts at most: a tab left open overnight is not a day of reading.
MAX_READING_SECONDS = 4 * 60 * 60

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Interest = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("article_read", description="The member read an article of the brand's magazine")
class ArticleRead(Strict):
    article_id: Id
    reading_id: Id
    interests: Annotated[list[Interest], Field(max_length=10)] = []
    seconds: Annotated[int, Field(ge=0, le=MAX_READING_SECONDS)] = 0
    scroll: Annotated[int, Field(ge=0, le=100)] = 0
