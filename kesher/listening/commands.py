"""The `kesher sentiment` commands (added to kesher/cli.py's parser).

kesher sentiment < texts.txt                      one label a line for one text a line
kesher sentiment evaluate [FILE ...] [--model M]  accuracy and macro-F1 against the majority baseline
kesher sentiment train FILE [FILE ...] --out M    a linear model as JSON weights (see analysis/model.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def commands_add(sub: Any) -> None:
    p = sub.add_parser("sentiment", help="label texts read one a line on standard input; evaluate; train")
    p.add_argument("--model", help="a model file (default: KESHER_SENTIMENT_MODEL, else the word lists)")
    p.add_argument("--brand", help="use this brand's installed model")
    p.add_argument("--scores", action="store_true", help="print the score (-1 .. 1) after the label")
    p.set_defaults(func=cmd_sentiment)
    actions = p.add_subparsers(dest="action", required=False)
    q = actions.add_parser(
        "evaluate", help="accuracy and macro-F1 per language against the majority baseline"
    )
    q.add_argument("files", nargs="*", help="text<TAB>label files (default: the sets in the repository)")
    q.add_argument("--model", help="a model file instead of the word lists")
    q.set_defaults(func=cmd_sentiment_evaluate)
    q = actions.add_parser("train", help="train a linear model on text<TAB>label files")
    q.add_argument("files", nargs="+")
    q.add_argument("--out", required=True, help="where to write the model (JSON)")
    q.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength (default 1)")
    q.set_defaults(func=cmd_sentiment_train)


def _analyser(args: argparse.Namespace) -> Any:
    from kesher.listening.analysis import sentiment_analyser
    from kesher.listening.analysis.model import ModelError, model_read

    if getattr(args, "model", None):
        try:
            return model_read(args.model)
        except ModelError as error:
            raise SystemExit(str(error)) from error
    brand = None
    if getattr(args, "brand", None):
        from kesher.brands.models import Brand

        brand = Brand.objects.filter(slug=args.brand).first()
        if brand is None:
            raise SystemExit(f"no brand {args.brand!r}")
    return sentiment_analyser(brand)


def labels_of(texts: list[str], analyser: Any) -> list[str]:
    from kesher.listening.analysis import hspell
    from kesher.listening.analysis.text import tokens_split

    split = [tokens_split(text) for text in texts]
    hspell.lemmas_lookup({t.squeezed for tokens in split for t in tokens if t.hebrew})
    return [analyser.polarity(text, tokens).label for text, tokens in zip(texts, split, strict=True)]


def cmd_sentiment(args: argparse.Namespace) -> int:
    from kesher.listening.analysis import hspell
    from kesher.listening.analysis.text import tokens_split

    analyser = _analyser(args)
    texts = [line.rstrip("\r\n") for line in sys.stdin]
    split = [tokens_split(text) for text in texts]
    hspell.lemmas_lookup({t.squeezed for tokens in split for t in tokens if t.hebrew})
    out = sys.stdout
    for text, tokens in zip(texts, split, strict=True):
        found = analyser.polarity(text, tokens)
        out.write(f"{found.label}\t{found.score:+.3f}\n" if args.scores else found.label + "\n")
    return 0


def cmd_sentiment_evaluate(args: argparse.Namespace) -> int:
    from kesher.listening.analysis.evaluate import DATA, HELD_OUT, TUNING, evaluate, labelled_read

    analyser = _analyser(args)
    groups: list[tuple[str, list[Path]]]
    if args.files:
        groups = [(Path(f).name, [Path(f)]) for f in args.files]
    else:
        groups = [
            ("tuning split (the word lists were tuned on it)", [DATA / n for n in TUNING]),
            ("held-out split (never tuned on)", [DATA / n for n in HELD_OUT]),
        ]
    print(f"analyser: {getattr(analyser, 'name', '?')} {getattr(analyser, 'path', '')}".rstrip())
    for title, paths in groups:
        rows = [row for path in paths for row in labelled_read(path)]
        result = evaluate(rows, lambda texts: labels_of(texts, analyser))
        print(title)
        print(f"  {'language':<8} {'n':>5} {'accuracy':>9} {'macro-F1':>9}   baseline ({'label'}) acc / F1")
        for language in sorted(result, key=lambda key: (key == "all", key)):
            s = result[language]
            print(
                f"  {language:<8} {s.count:>5} {s.accuracy:>9.3f} {s.macro_f1:>9.3f}   "
                f"{s.baseline_label:<8} {s.baseline_accuracy:.3f} / {s.baseline_macro_f1:.3f}"
            )
    return 0


def cmd_sentiment_train(args: argparse.Namespace) -> int:
    from kesher.listening.analysis.evaluate import labelled_read
    from kesher.listening.analysis.model import ModelError, model_train, model_write

    rows = [row for path in args.files for row in labelled_read(path)]
    try:
        model = model_train(rows, c=args.c)
    except ModelError as error:
        print(f"cannot train: {error}")
        return 2
    model_write(model, args.out)
    print(
        f"{len(rows)} texts, {len(model.weights)} features, classes {', '.join(model.classes)} → {args.out}"
    )
    return 0
