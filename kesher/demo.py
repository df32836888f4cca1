"""Demo data: a Hebrew café chain and an English outdoor shop, with two years of purchases."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from kesher.activity.services import activity_record
from kesher.brands.models import Brand, StaffRole
from kesher.brands.services import brand_create, staff_grant
from kesher.loyalty.models import Store
from kesher.loyalty.services import reward_create, tier_create
from kesher.members.models import Member, MemberStatus
from kesher.members.services import member_create

PASSWORD = "kesher-demo"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    first_name: str
    last_name: str
    role: str  # "admin", "member" or a staff role (kesher.brands.models.StaffRole)
    brand: str | None  # the brand's slug; None for the installation administrator
    try_this: str


# Every demo login, with what to try; `kesher run` prints them and README lists them. A member's login is
# the brand's first member, who carries the login's name, so the portal greets them by it.
DEMO_PEOPLE: list[DemoLogin] = [
    DemoLogin(
        "admin@demo.kesher.local",
        "Admin",
        "Kesher",
        "admin",
        None,
        "the Django admin at /admin/; every brand's staff pages for support, audited",
    ),
    DemoLogin(
        "owner@shahar.demo.kesher.local",
        "דנה",
        "שחר",
        "owner",
        "shahar",
        "every staff page of קפה שחר: /console/shahar/",
    ),
    DemoLogin(
        "marketer@shahar.demo.kesher.local",
        "רוני",
        "אלון",
        "marketer",
        "shahar",
        "members, rules and rewards, campaigns and journeys, the magazine",
    ),
    DemoLogin(
        "analyst@shahar.demo.kesher.local",
        "גיל",
        "שמיר",
        "analyst",
        "shahar",
        "read everything, export members as CSV, change nothing",
    ),
    DemoLogin(
        "moderator@shahar.demo.kesher.local",
        "מיכל",
        "דגן",
        "moderator",
        "shahar",
        "the community's moderation queue: /community/shahar/moderation/",
    ),
    DemoLogin(
        "cashier@shahar.demo.kesher.local",
        "אבי",
        "רון",
        "service_agent",
        "shahar",
        "the cashier: find a member by phone however typed, burn a coupon: /cashier/",
    ),
    DemoLogin(
        "noa@demo.kesher.local",
        "נועה",
        "כהן",
        "member",
        "shahar",
        "the member's portal in Hebrew: points, rewards, card: /portal/",
    ),
    DemoLogin(
        "owner@northwind.demo.kesher.local",
        "Sam",
        "Reed",
        "owner",
        "northwind",
        "every staff page of Northwind Outfitters: /console/northwind/",
    ),
    DemoLogin(
        "marketer@northwind.demo.kesher.local",
        "Taylor",
        "Brooks",
        "marketer",
        "northwind",
        "members, rules and rewards, campaigns and journeys, the magazine",
    ),
    DemoLogin(
        "analyst@northwind.demo.kesher.local",
        "Jordan",
        "Hayes",
        "analyst",
        "northwind",
        "read everything, export members as CSV, change nothing",
    ),
    DemoLogin(
        "moderator@northwind.demo.kesher.local",
        "Morgan",
        "Ellis",
        "moderator",
        "northwind",
        "the community's moderation queue: /community/northwind/moderation/",
    ),
    DemoLogin(
        "cashier@northwind.demo.kesher.local",
        "Chris",
        "Park",
        "service_agent",
        "northwind",
        "the cashier: find a member, burn a coupon: /cashier/",
    ),
    DemoLogin(
        "emma@demo.kesher.local",
        "Emma",
        "Walsh",
        "member",
        "northwind",
        "the member's portal in English: /portal/",
    ),
]
DEMO_LOGINS = {
    "password": PASSWORD,
    "users": [
        (f"{person.role.replace('_', ' ')}{', ' + person.brand if person.brand else ''}", person.email)
        for person in DEMO_PEOPLE
    ],
}

HEBREW_FIRST = [
    "נועה",
    "תמר",
    "מאיה",
    "יעל",
    "שירה",
    "אביגיל",
    "רוני",
    "מיכל",
    "הילה",
    "ליאור",
    "איתי",
    "יוסף",
    "דניאל",
    "אורי",
    "עומר",
    "נדב",
    "אריאל",
    "יונתן",
    "עידו",
    "אמיר",
    "מוחמד",
    "לינה",
    "סהר",
    "רותם",
]
HEBREW_LAST = [
    "כהן",
    "לוי",
    "מזרחי",
    "פרץ",
    "ביטון",
    "אברהם",
    "פרידמן",
    "אזולאי",
    "דהן",
    "אוחיון",
    "שפירא",
    "גולן",
    "חדד",
    "בן דוד",
    "קפלן",
    "עזרא",
    "נסים",
    "ברק",
    "טל",
    "אשכנזי",
    "חביב",
    "סלאמה",
]
ENGLISH_FIRST = [
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Mia",
    "Amelia",
    "Harper",
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "Lucas",
    "Henry",
    "Grace",
    "Chloe",
    "Ethan",
    "Jack",
    "Leo",
    "Isla",
    "Zoe",
    "Nora",
]
ENGLISH_LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
]
CAFE_STORES = ["תל אביב – דיזנגוף", "ירושלים – עמק רפאים", "חיפה – מושבה גרמנית", "באר שבע – רגר"]
SHOP_STORES = ["Boston Downtown", "Portland Pearl", "Online"]
CAFE_ITEMS = [
    ("ESP", "אספרסו", "coffee", "9.00"),
    ("CAP", "קפוצ'ינו", "coffee", "14.00"),
    ("CRO", "קרואסון חמאה", "bakery", "16.00"),
    ("SHK", "שקשוקה", "kitchen", "52.00"),
    ("BNS", "פולי קפה 250 גרם", "beans", "58.00"),
]
SHOP_ITEMS = [
    ("TENT2", "Two-person tent", "camping", "249.00"),
    ("BOOT", "Hiking boots", "footwear", "159.00"),
    ("SOCK", "Merino socks", "apparel", "19.00"),
    ("LAMP", "Head lamp", "gear", "39.00"),
]
INTERESTS = {
    "he": ["קפה", "מאפים", "ארוחות בוקר", "סדנאות"],
    "en": ["camping", "hiking", "running", "climbing"],
}


def _user(email: str, first: str, last: str, *, superuser: bool = False):  # type: ignore[no-untyped-def]
    users = get_user_model()
    user = users.objects.filter(email=email).first()
    if user is None:
        if superuser:
            user = users.objects.create_superuser(username=email, email=email, password=PASSWORD)
        else:
            user = users.objects.create_user(username=email, email=email, password=PASSWORD)
        user.first_name, user.last_name = first, last
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _phone(rng: random.Random) -> str:
    return f"05{rng.choice('023458')}-{rng.randint(1000000, 9999999)}"


def _load_brand(*, brand: Brand, members: int, rng: random.Random, progress: tqdm) -> int:
    hebrew = brand.default_locale == "he"
    first_names, last_names = (HEBREW_FIRST, HEBREW_LAST) if hebrew else (ENGLISH_FIRST, ENGLISH_LAST)
    stores, items = (CAFE_STORES, CAFE_ITEMS) if hebrew else (SHOP_STORES, SHOP_ITEMS)
    now = timezone.now()
    activities = 0
    for index in range(members):
        first, last = rng.choice(first_names), rng.choice(last_names)
        joined = now - timedelta(days=rng.randint(1, 730), minutes=rng.randint(0, 1440))
        with transaction.atomic():
            member = member_create(
                brand=brand,
                external_id=f"{brand.slug}-{index:05d}",
                email=f"member{index}@{brand.slug}.demo.kesher.local",
                phone=_phone(rng),
                first_name=first,
                last_name=last,
                birthday=date(rng.randint(1955, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                interests=rng.sample(INTERESTS[brand.default_locale], k=rng.randint(0, 2)),
                status=MemberStatus.ACTIVE if index == 0 or rng.random() > 0.08 else MemberStatus.PROSPECT,
                source=rng.choice(["store", "website", "app"]),
                consents={"email": rng.random() > 0.3, "sms": rng.random() > 0.5},
                consent_wording="אני מאשר/ת קבלת דיוור" if hebrew else "I agree to receive club messages",
                joined_at=joined,
            )
            if member.status == MemberStatus.ACTIVE:
                span = max((now - joined).days, 1)
                for _ in range(rng.randint(1, 14)):
                    when = joined + timedelta(days=rng.randint(0, span - 1), hours=rng.randint(0, 10))
                    chosen = rng.sample(items, k=rng.randint(1, 3))
                    lines = [
                        {"sku": sku, "name": name, "category": cat, "quantity": 1, "unit_price": price}
                        for sku, name, cat, price in chosen
                    ]
                    amount = sum((Decimal(price) for *_, price in chosen), Decimal(0))
                    activity_record(
                        brand=brand,
                        member=member,
                        type="purchase",
                        occurred_at=when,
                        source="demo",
                        attributes={
                            "amount": str(amount),
                            "currency": brand.currency,
                            "store": rng.choice(stores),
                            "items": lines,
                        },
                    )
                    activities += 1
        progress.update(1)
    return activities


COMMUNITY_HE = [
    (
        "איך צוברים נקודות על הזמנה באפליקציה?",
        "הזמנתי דרך האפליקציה ולא ראיתי נקודות. זה לוקח זמן?",
        [
            "נקודות על הזמנות באפליקציה נכנסות מיד אחרי התשלום, בדיוק כמו בקופה.",
            "אצלי זה הופיע אחרי כמה דקות, כדאי לרענן את המסך.",
        ],
        ["נקודות", "אפליקציה"],
    ),
    (
        "יש אפשרות לחלב שקדים בכל הסניפים?",
        "אני טבעונית ורוצה לדעת לפני שאני מגיעה לסניף חדש.",
        ["כן, בכל הסניפים יש חלב שקדים, סויה ושיבולת שועל."],
        ["תפריט"],
    ),
]
COMMUNITY_EN = [
    (
        "Which tent is best for desert camping?",
        "Planning a trip to the Negev in spring. Any tips?",
        [
            "The two-person tent with the reflective fly keeps it cool in the morning.",
            "Bring extra stakes: the ground is hard in the desert.",
        ],
        ["camping", "tents"],
    ),
    (
        "Do points expire?",
        "I have a few hundred points from last year.",
        ["Points in this club never expire, so you can save them for a bigger reward."],
        ["points"],
    ),
]


def _community(brand: Brand, threads: list[tuple[str, str, list[str], list[str]]]) -> None:
    """A few questions and answers, asked and answered by demo members, one answer accepted each."""
    from kesher.community.models import Space
    from kesher.community.services import Author, answer_accept, question_ask, vote_cast
    from kesher.community.services import answer_post as answer_write

    space = Space.objects.get(brand=brand, slug="general")
    people = list(
        Member.objects.filter(brand=brand, status=MemberStatus.ACTIVE).order_by("external_id")[1:40]
    )
    turn = 0
    for title, body, answers, tags in threads:
        asker = people[turn % len(people)]
        question = question_ask(space=space, author=Author(member=asker), title=title, body=body, tags=tags)
        written = []
        for text in answers:
            turn += 1
            written.append(
                answer_write(question=question, author=Author(member=people[turn % len(people)]), body=text)
            )
        turn += 1
        if written and written[0].status == "published":
            vote_cast(post=written[0], member=people[(turn + 7) % len(people)], value=1)
            answer_accept(answer=written[0], member=asker)


SURVEY_COMMENTS = [
    "השירות בדיזנגוף תמיד חם ומהיר",
    "הקפה היה קר והחיכוך בקופה ארוך",
    "אהבתי את המאפים החדשים",
    "חיכיתי רבע שעה להזמנה",
    "The oat flat white is the best in town",
    "מקום נעים לעבוד בו, אבל רועש בצהריים",
]


def _surveys(brand: Brand, rng: random.Random) -> None:
    """A published NPS and CSAT survey of the café with ten weeks of answers from both stores."""
    from datetime import timedelta

    from django.utils import timezone

    from kesher.surveys.services import response_submit, survey_create, survey_publish

    survey = survey_create(
        brand=brand,
        title_he="איך היה הביקור שלכם?",
        title_en="How was your visit?",
        intro_he="שלוש שאלות קצרות, פחות מדקה.",
        intro_en="Three short questions, under a minute.",
        trigger_activity="purchase",
        trigger_delay_hours=2,
        questions=[
            {
                "kind": "nps",
                "text_he": "עד כמה סביר שתמליצו עלינו לחבר?",
                "text_en": "How likely are you to recommend us?",
            },
            {
                "kind": "csat",
                "text_he": "עד כמה הייתם מרוצים מהביקור?",
                "text_en": "How satisfied were you with the visit?",
            },
            {
                "kind": "text",
                "required": False,
                "text_he": "רוצים לספר לנו עוד?",
                "text_en": "Anything else?",
            },
        ],
    )
    survey = survey_publish(survey=survey)
    questions = {q.kind: str(q.pk) for q in survey.questions.all()}
    now = timezone.now()
    for member in Member.objects.filter(brand=brand).order_by("external_id")[1:71]:
        nps = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 8, 10, 14, 12])[0]
        answers: dict[str, object] = {
            questions["nps"]: nps,
            questions["csat"]: max(1, min(5, round(nps / 2))),
        }
        if rng.random() < 0.35:
            answers[questions["text"]] = rng.choice(SURVEY_COMMENTS)
        response_submit(
            survey=survey,
            member=member,
            answers=answers,
            store=rng.choice(["dizengoff", "emek-refaim"]),
            now=now - timedelta(days=rng.randint(0, 70), hours=rng.randint(0, 10)),
        )


def _ideas(brand: Brand, ideas: list[str], challenge: str, program: str) -> None:
    """A few ideas with supporters (one planned, with its reason), an open challenge and a beta program."""
    from kesher.core.audit import SYSTEM
    from kesher.ideas.selectors import status_get
    from kesher.ideas.services import (
        beta_apply,
        beta_program_create,
        challenge_create,
        idea_status_set,
        idea_submit,
        idea_support,
    )

    people = list(
        Member.objects.filter(brand=brand, status=MemberStatus.ACTIVE).order_by("external_id")[1:60]
    )
    now = timezone.now()
    for number, title in enumerate(ideas):
        idea = idea_submit(member=people[number], title=title, body=title)
        for fan in people[number + 1 : number + 1 + (len(ideas) - number) * 7]:
            idea_support(idea=idea, member=fan)
        if number == 0:
            idea_status_set(
                idea=idea, status=status_get(brand=brand, code="planned"), reason="", actor=SYSTEM
            )
    challenge_create(
        brand=brand,
        title=challenge,
        question=challenge,
        starts_at=now - timedelta(days=2),
        ends_at=now + timedelta(days=21),
        prize_points=300,
        actor=SYSTEM,
    )
    beta = beta_program_create(
        brand=brand,
        title=program,
        places=10,
        agreement="NDA",
        tasks=[{"title": program, "points": 50}],
        private_brief=program,
        actor=SYSTEM,
    )
    for member in people[:3]:
        beta_apply(program=beta, member=member, agreement_accepted=True)


def _privacy(cafe: Brand, shop: Brand) -> None:
    """Privacy (issue 18): the café keeps leads a year and treats birthdays as highly sensitive."""
    from kesher.members.sensitive import sensitive_fields_set
    from kesher.privacy.services import retention_set

    retention_set(brand=cafe, days=365)
    retention_set(brand=shop, days=180)
    sensitive_fields_set(brand=cafe, fields=["birthday"])


def _insights(brands: list[Brand]) -> None:
    """The nightly recomputation once, so the insights pages have figures, and a marketer's names for the
    personas that spend most and least."""
    from kesher.insights.models import Persona
    from kesher.insights.personas import persona_rename
    from kesher.insights.services import insights_refresh

    names = {"he": ("הקונים הגדולים", "השקטים"), "en": ("Big spenders", "The quiet ones")}
    for brand in brands:
        insights_refresh(brand=brand)
        found = sorted(Persona.objects.filter(brand=brand, members__gt=0), key=lambda p: p.centre["spend"])
        if len(found) >= 2:
            big, quiet = names.get(brand.default_locale, names["en"])
            persona_rename(brand=brand, number=found[-1].number, name=big)
            persona_rename(brand=brand, number=found[0].number, name=quiet)


def _reviews(brand: Brand, items: Sequence[tuple[str, ...]], rng: random.Random) -> None:
    """Reviews of the brand's products by members who bought them (and one who did not), all ratings."""
    from kesher.activity.models import Activity
    from kesher.reviews.services import review_submit

    hebrew = brand.default_locale == "he"
    texts = {
        5: ("מעולה", "בדיוק מה שרציתי.") if hebrew else ("Excellent", "Exactly what I wanted."),
        4: ("טוב מאוד", "טוב, קצת יקר.") if hebrew else ("Very good", "Good, a little pricey."),
        3: ("בסדר", "לא רע, לא מיוחד.") if hebrew else ("Fine", "Not bad, nothing special."),
        2: ("מאכזב", "ציפיתי ליותר.") if hebrew else ("Disappointing", "I expected more."),
        1: ("לא מומלץ", "לא עבד לי בכלל.") if hebrew else ("Not for me", "It did not work for me at all."),
    }
    for sku, *_rest in items[:3]:
        buyers = Activity.objects.filter(brand=brand, type="purchase", attributes__icontains=sku)
        seen: set[object] = set()
        for activity in buyers.select_related("member__brand")[:40]:
            if activity.member_id in seen or len(seen) >= 6:
                continue
            seen.add(activity.member_id)
            rating = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 6])[0]
            title, body = texts[rating]
            review_submit(
                member=activity.member, sku=sku, rating=rating, title=title, body=f"{body} #{len(seen)}"
            )


def _customers(brand: Brand) -> None:
    """customers-console: one person who joined twice (a typo in the surname, a second email), stored as a
    probable duplicate pair, so the staff console's duplicates queue has something to review."""
    from kesher.customers.services.dedupe import pairs_store

    first = member_create(
        brand=brand,
        external_id="dup-1",
        email="michal.avraham@example.org",
        phone="+972545550101",
        first_name="מיכל",
        last_name="אברהם",
        birthday=date(1988, 3, 14),
        source="import",
    )
    second = member_create(
        brand=brand,
        external_id="dup-2",
        email="michal.a@example.net",
        phone="+972545550101",
        first_name="מיכל",
        last_name="אברהאם",
        birthday=date(1988, 3, 14),
        source="web",
    )
    a, b = sorted([str(first.pk), str(second.pk)])
    pairs_store(brand=brand, pairs=[(a, b, 0.97, ["similar name", "same phone", "same birthday"])])


def demo_load(*, members_per_brand: int = 250, seed: int = 7) -> None:
    rng = random.Random(seed)
    if Brand.objects.filter(slug__in=["shahar", "northwind"]).exists():
        print("demo brands are already loaded")
        return
    cafe = brand_create(slug="shahar", name="קפה שחר", default_locale="he")
    shop = brand_create(slug="northwind", name="Northwind Outfitters", default_locale="en")
    brands = {"shahar": cafe, "northwind": shop}
    for person in DEMO_PEOPLE:
        if person.role == "admin":
            _user(person.email, person.first_name, person.last_name, superuser=True)
        elif person.role != "member" and person.brand:
            user = _user(person.email, person.first_name, person.last_name)
            staff_grant(brand=brands[person.brand], user=user, role=StaffRole(person.role))
    tier_create(
        brand=cafe, name="כסף", threshold=Decimal(300), texts={"en": "Silver"}, perks="קפה כפול בימי הולדת"
    )
    tier_create(
        brand=cafe,
        name="זהב",
        threshold=Decimal(1000),
        multiplier=Decimal("1.5"),
        texts={"en": "Gold"},
        perks="נקודות פי 1.5 וגישה לסדנאות",
    )
    tier_create(brand=shop, name="Trail", threshold=Decimal(500))
    tier_create(brand=shop, name="Summit", threshold=Decimal(2000), multiplier=Decimal("1.25"))
    for name, code in (("תל אביב – דיזנגוף", "dizengoff"), ("ירושלים – עמק רפאים", "emek-refaim")):
        Store.objects.create(brand=cafe, name=name, code=code)
    Store.objects.create(brand=shop, name="Boston Downtown", code="boston")
    reward_create(brand=cafe, name="קפה הפוך חינם", cost_points=60, kind="free_item", value=Decimal("14"))
    reward_create(
        brand=cafe, name="10% הנחה על פולי קפה", cost_points=120, kind="discount_percent", value=Decimal("10")
    )
    reward_create(brand=cafe, name="סדנת לאטה ארט", cost_points=900, kind="experience", stock=12)
    reward_create(
        brand=shop,
        name="$10 off your next order",
        cost_points=250,
        kind="discount_fixed",
        value=Decimal("10"),
    )
    reward_create(brand=shop, name="Merino socks", cost_points=400, kind="free_item", stock=50)
    activities = 0
    with tqdm(total=members_per_brand * 2, desc="demo members", unit="member") as progress:
        for brand in (cafe, shop):
            activities += _load_brand(brand=brand, members=members_per_brand, rng=rng, progress=progress)
    for person in DEMO_PEOPLE:
        if person.role == "member" and person.brand:
            # The brand's first member is this login's card, under the login's own name.
            member = Member.objects.get(brand=brands[person.brand], external_id=f"{person.brand}-00000")
            member.user = _user(person.email, person.first_name, person.last_name)
            member.first_name, member.last_name = person.first_name, person.last_name
            member.save(update_fields=["user", "first_name", "last_name"])
    _community(cafe, COMMUNITY_HE)
    _community(shop, COMMUNITY_EN)
    _surveys(cafe, rng)  # surveys
    _ideas(
        cafe,
        ["חלב שיבולת שועל בכל הסניפים", "כרטיסיית קפה דיגיטלית", "מאפה טבעוני בבוקר"],
        "מאפה חדש לחורף",
        "בודקי האפליקציה החדשה",
    )
    _ideas(
        shop,
        ["Rent a tent for a weekend", "Repair workshop for boots", "Trail maps in the app"],
        "Gear for winter hikes",
        "Test the new trip planner",
    )
    _privacy(cafe, shop)
    _insights([cafe, shop])
    _reviews(cafe, CAFE_ITEMS, rng)  # reviews
    _reviews(shop, SHOP_ITEMS, rng)
    _customers(cafe)  # customers-console
    print(
        f"demo loaded: 2 brands, {members_per_brand * 2} members, {activities} purchases, "
        f"{len(COMMUNITY_HE) + len(COMMUNITY_EN)} community questions"
    )
