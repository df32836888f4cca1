"""The activity types recommendations learn from that no other part records: looking at a product or a thread.

Purchases (with their items' skus) come from the activity stream's own `purchase`; answers from the
community's `answer_posted`; magazine reads from `article_read` (`article_id`), recorded by the magazine.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from kesher.activity.registry import activity_type

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


@activity_type("product_viewed", description="The member looked at a product in the shop or the app")
class ProductViewed(Strict):
    sku: Text
    name: Text | None = None
    category: Text | None = None


@activity_type("thread_viewed", description="The member read a community thread")
class ThreadViewed(Strict):
    question_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
