"""Every write to the community, one module per thing a user does (in the manner of Zulip's `actions/`).

Points (redeemable, the loyalty ledger) come from activities recorded here: question_asked,
answer_posted, answer_accepted. Reputation (standing, not redeemable) is a separate ledger of its own.

This package re-exports only what the community's edges (api, views, tasks) and other parts use; the
rest is imported from its module, e.g. `kesher.community.services.questions`.
"""

from kesher.community.services.answers import answer_accept, answer_post
from kesher.community.services.authors import Author
from kesher.community.services.comments import comment_post
from kesher.community.services.defaults import community_install_defaults
from kesher.community.services.editing import post_edit
from kesher.community.services.follows import follow_remove, follow_set, notifications_mark_read
from kesher.community.services.merging import question_merge
from kesher.community.services.moderation import (
    flag_create,
    member_suspend,
    post_delete,
    post_hide,
    post_restore,
    question_state_set,
)
from kesher.community.services.questions import question_ask, question_view_register
from kesher.community.services.reputation import BADGES, badges_helpful_month, reputation_rule_set
from kesher.community.services.spaces import space_create
from kesher.community.services.votes import vote_cast

__all__ = [
    "BADGES",
    "Author",
    "answer_accept",
    "answer_post",
    "badges_helpful_month",
    "comment_post",
    "community_install_defaults",
    "flag_create",
    "follow_remove",
    "follow_set",
    "member_suspend",
    "notifications_mark_read",
    "post_delete",
    "post_edit",
    "post_hide",
    "post_restore",
    "question_ask",
    "question_merge",
    "question_state_set",
    "question_view_register",
    "reputation_rule_set",
    "space_create",
    "vote_cast",
]
