"""The reviews part's writes; what other parts and this part's edges call is re-exported here."""

from kesher.reviews.services.gallery import (
    gallery_feature,
    gallery_like,
    gallery_moderate,
    gallery_post,
    rights_grant,
    rights_revoke,
)
from kesher.reviews.services.member_data import (
    member_reviews_erase,
    member_reviews_export,
    members_reviews_merge,
)
from kesher.reviews.services.requests import review_requests_collect, review_requests_send
from kesher.reviews.services.reviews import (
    SIGNALS,
    purchase_verified,
    review_moderate,
    review_reply,
    review_submit,
    review_vote_helpful,
)
from kesher.reviews.services.settings import review_settings_update

__all__ = [
    "SIGNALS",
    "gallery_feature",
    "gallery_like",
    "gallery_moderate",
    "gallery_post",
    "member_reviews_erase",
    "member_reviews_export",
    "members_reviews_merge",
    "purchase_verified",
    "review_moderate",
    "review_reply",
    "review_requests_collect",
    "review_requests_send",
    "review_settings_update",
    "review_submit",
    "review_vote_helpful",
    "rights_grant",
    "rights_revoke",
]
