"""The `kesher recs train|evaluate|generate` commands (added to kesher/cli.py's parser)."""

from __future__ import annotations

import argparse
from typing import Any


def commands_add(sub: Any) -> None:
    recs = sub.add_parser("recs", help="recommendations: train, evaluate, generate test histories")
    actions = recs.add_subparsers(dest="recs_action", required=True)
    p = actions.add_parser("train", help="train the brand's models and store every member's lists")
    p.add_argument("--brand", required=True, help="the brand's slug")
    p.set_defaults(func=cmd_train)
    p = actions.add_parser(
        "evaluate", help="time-based split: precision, recall, NDCG at 10 against popularity"
    )
    p.add_argument("--brand", required=True)
    p.set_defaults(func=cmd_evaluate)
    p = actions.add_parser("generate", help="purchase histories with planted segments, as real activities")
    p.add_argument("--brand", required=True)
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--days", type=int, default=180)
    p.set_defaults(func=cmd_generate)


def _brand(slug: str) -> Any:
    from kesher.brands.models import Brand

    brand = Brand.objects.filter(slug=slug).first()
    if brand is None:
        raise SystemExit(f"no brand {slug!r}")
    return brand


def cmd_train(args: argparse.Namespace) -> int:
    from kesher.recs.services.training import recs_train

    run = recs_train(brand=_brand(args.brand))
    print(
        f"trained on {run.interactions} interactions of {run.members} members ({run.products} products) "
        f"in {run.seconds:.2f} s; {run.lists} lists stored"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from kesher.recs.services.evaluation import evaluation_lines, recs_evaluate

    for line in evaluation_lines(recs_evaluate(brand=_brand(args.brand))):
        print(line)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from kesher.recs.services.generator import recs_generate

    if args.members < 1:
        raise SystemExit("--members must be at least 1")
    made = recs_generate(brand=_brand(args.brand), members=args.members, seed=args.seed, days=args.days)
    print(
        f"{made.members} members in segments {', '.join(made.segments)}; "
        f"{made.activities} activities recorded"
    )
    return 0
