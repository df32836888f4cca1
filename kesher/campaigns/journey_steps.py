"""The steps a journey is made of, validated with pydantic: wait, condition, send, points, tag, notify."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from kesher.campaigns import rendering
from kesher.campaigns.rules import rules_parse
from kesher.core.errors import ValidationFailed


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WaitStep(_Step):
    type: Literal["wait"]
    days: int = Field(0, ge=0, le=3650)
    hours: int = Field(0, ge=0, le=24 * 3650)

    @model_validator(mode="after")
    def _some_time(self) -> WaitStep:
        if self.days == 0 and self.hours == 0:
            raise ValueError("a wait needs days or hours")
        return self


class ConditionStep(_Step):
    """The member goes on only if they are in the rules' audience, or have consent for a channel."""

    type: Literal["condition"]
    rules: dict[str, Any] | None = None
    consent: Literal["email", "sms"] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> ConditionStep:
        if (self.rules is None) == (self.consent is None):
            raise ValueError("a condition has either rules or consent")
        if self.rules is not None:
            self.rules = rules_parse(self.rules).model_dump(mode="json")
        return self


class Translation(_Step):
    subject: str = ""
    body: str = Field(min_length=1)


class SendStep(_Step):
    type: Literal["send"]
    channel: Literal["email", "sms", "portal"]
    locale: Literal["he", "en"] = "he"
    subject: str = Field("", max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    translations: dict[Literal["he", "en"], Translation] = Field(default_factory=dict)
    advertising: bool
    # A reward of the brand's catalog: each member's message from this step carries a coupon of its own
    # ({{ coupon }}), issued once per run; out of stock, the step is skipped for the member (no_coupon).
    coupon_reward: UUID | None = None

    @model_validator(mode="after")
    def _compiles(self) -> SendStep:
        if self.channel != "sms" and not self.subject.strip():
            raise ValueError(f"a message by {self.channel} needs a subject")
        # Tried for the longest possible member: a template past the render's bounds is refused here.
        compiled = rendering.content_compile(self.subject, self.body, [])
        rendering.content_check(compiled, locale="he")
        sources = [self.subject, self.body]
        for language, translation in self.translations.items():
            compiled = rendering.content_compile(translation.subject, translation.body, [])
            rendering.content_check(compiled, locale=language)
            sources += [translation.subject, translation.body]
        if "coupon" in rendering.names_used(*sources) and self.coupon_reward is None:
            # An empty code is never sent: the coupon comes from the step's reward.
            raise ValueError("{{ coupon }} needs a coupon_reward on the step")
        return self


class PointsStep(_Step):
    type: Literal["points"]
    points: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)


class TagStep(_Step):
    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=50)


class NotifyStep(_Step):
    """An email to staff, e.g. "a VIP has not bought for 90 days"."""

    type: Literal["notify"]
    email: str = Field(max_length=254)
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field("", max_length=5000)

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        try:
            validate_email(value.strip())
        except DjangoValidationError:
            raise ValueError("not an email address") from None
        return value.strip().lower()

    @model_validator(mode="after")
    def _compiles(self) -> NotifyStep:
        compiled = rendering.content_compile(self.subject, self.body, [])
        rendering.content_check(compiled, locale="he")
        return self


Step = Annotated[
    WaitStep | ConditionStep | SendStep | PointsStep | TagStep | NotifyStep, Field(discriminator="type")
]
_steps = TypeAdapter(list[Step])

MAX_STEPS = 30


def steps_parse(raw: Any) -> list[Step]:
    """The steps, checked; a mistake is a 422 naming the step and field."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("steps must be a non-empty list", field="steps")
    if len(raw) > MAX_STEPS:
        raise ValidationFailed(f"at most {MAX_STEPS} steps", field="steps")
    try:
        return _steps.validate_python(raw)
    except ValidationFailed as exc:  # a template that does not compile
        raise ValidationFailed(f"steps: {exc.message}", field="steps") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in ("steps", *first["loc"]))
        raise ValidationFailed(f"{location}: {first['msg']}", field=location) from None
