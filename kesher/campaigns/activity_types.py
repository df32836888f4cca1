"""What messages add to a member's activity stream, and the campaigns part's consumer of purchases."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from kesher.activity.registry import activity_type, consumer
from kesher.campaigns.services import conversion_record

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class MessageRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: Id
    message_id: Id
    channel: Literal["email", "sms", "portal"]


@activity_type("message_delivered", description="A message reached the member's phone or mailbox")
class MessageDelivered(MessageRef):
    pass


@activity_type("message_bounced", description="A message could not be delivered")
class MessageBounced(MessageRef):
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


@activity_type("message_opened", description="The member opened a message")
class MessageOpened(MessageRef):
    pass


@activity_type("message_clicked", description="The member followed a link in a message")
class MessageClicked(MessageRef):
    url: Annotated[str, StringConstraints(max_length=2000)]


@activity_type("message_unsubscribed", description="The member refused further messages from a message")
class MessageUnsubscribed(MessageRef):
    pass


@activity_type("message_forwarded", description="The member forwarded a message to a friend")
class MessageForwarded(MessageRef):
    pass


@activity_type("message_complained", description="The member marked a message as spam at their mail provider")
class MessageComplained(MessageRef):
    pass


@activity_type("message_converted", description="The member bought within the conversion window of a message")
class MessageConverted(MessageRef):
    purchase_id: Id


def _conversion(activity):  # type: ignore[no-untyped-def]
    conversion_record(activity)


consumer("purchase", name="campaigns.conversion")(_conversion)
