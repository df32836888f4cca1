"""Every write for campaigns, one module per thing a user does (in the manner of Zulip's `actions/`):
`segments`, `messaging` (a brand's sender settings), `authoring`, `sending` (queuing one message per
member), `delivery`, `events` (opens, clicks, receipts, conversions), `unsubscribe`, `previews`,
`forwards`, `coupons`, `scheduling` (schedule, pause, resume, cancel), `ab_tests`, `bounce_notices`,
`portal`; `contents` and `composing` are the pieces they share. This package exports what other
domains and the campaigns edges (api, views, tasks, journeys, management commands) call; anything else
is imported from its module."""

from kesher.campaigns.services.ab_tests import ab_tests_decide
from kesher.campaigns.services.authoring import campaign_create
from kesher.campaigns.services.bounce_notices import (
    BounceNotice,
    bounce_notice_record,
    email_suppression_remove,
)
from kesher.campaigns.services.composing import sender_address
from kesher.campaigns.services.contents import CampaignContents, contents_compile
from kesher.campaigns.services.coupons import message_coupon_issue
from kesher.campaigns.services.delivery import message_claims_recover, messages_deliver, messages_dispatch_due
from kesher.campaigns.services.events import (
    conversion_record,
    message_click,
    message_open,
    sms_receipt_record,
)
from kesher.campaigns.services.forwards import FORWARDS_PER_MESSAGE, forward_send, message_forward
from kesher.campaigns.services.messaging import messaging_settings_update
from kesher.campaigns.services.portal import portal_notice_read, portal_notices_read_all
from kesher.campaigns.services.previews import campaign_preview, campaign_test_send, content_warnings
from kesher.campaigns.services.scheduling import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_schedule,
    campaigns_start_due,
)
from kesher.campaigns.services.segments import segment_create
from kesher.campaigns.services.sending import (
    campaign_queue,
    campaign_send,
    messages_dispatch,
    send_time_choose,
)
from kesher.campaigns.services.unsubscribe import message_unsubscribe, sms_reply_receive

__all__ = [
    "FORWARDS_PER_MESSAGE",
    "BounceNotice",
    "CampaignContents",
    "ab_tests_decide",
    "bounce_notice_record",
    "campaign_cancel",
    "campaign_create",
    "campaign_pause",
    "campaign_preview",
    "campaign_queue",
    "campaign_resume",
    "campaign_schedule",
    "campaign_send",
    "campaign_test_send",
    "campaigns_start_due",
    "content_warnings",
    "contents_compile",
    "conversion_record",
    "email_suppression_remove",
    "forward_send",
    "message_claims_recover",
    "message_click",
    "message_coupon_issue",
    "message_forward",
    "message_open",
    "message_unsubscribe",
    "messages_deliver",
    "messages_dispatch",
    "messages_dispatch_due",
    "messaging_settings_update",
    "portal_notice_read",
    "portal_notices_read_all",
    "segment_create",
    "send_time_choose",
    "sender_address",
    "sms_receipt_record",
    "sms_reply_receive",
]
