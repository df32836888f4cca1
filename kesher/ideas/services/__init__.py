"""Every write of the ideas part: one module per thing done (ideas, setup, challenges, beta, member data).

What the ideas API, pages, tasks and other parts call is re-exported here."""

from kesher.ideas.services._common import ideas_install_defaults, settings_of
from kesher.ideas.services.beta import (
    beta_application_decide,
    beta_applications_select,
    beta_apply,
    beta_eligible,
    beta_feedback_submit,
    beta_program_create,
    beta_task_add,
    beta_tester,
)
from kesher.ideas.services.challenges import challenge_create, challenge_winners_pick
from kesher.ideas.services.ideas import (
    challenge_is_open,
    idea_comment,
    idea_expire_if_due,
    idea_moderate,
    idea_status_set,
    idea_submit,
    idea_support,
    ideas_expire_due,
    notices_mark_read,
)
from kesher.ideas.services.memberdata import ideas_member_erase, ideas_member_export, ideas_members_merge
from kesher.ideas.services.setup import idea_stages_set, idea_status_save

__all__ = [
    "beta_application_decide",
    "beta_applications_select",
    "beta_apply",
    "beta_eligible",
    "beta_feedback_submit",
    "beta_program_create",
    "beta_task_add",
    "beta_tester",
    "challenge_create",
    "challenge_is_open",
    "challenge_winners_pick",
    "idea_comment",
    "idea_expire_if_due",
    "idea_moderate",
    "idea_stages_set",
    "idea_status_save",
    "idea_status_set",
    "idea_submit",
    "idea_support",
    "ideas_expire_due",
    "ideas_install_defaults",
    "ideas_member_erase",
    "ideas_member_export",
    "ideas_members_merge",
    "notices_mark_read",
    "settings_of",
]
