"""Generated captions that exercise the tokenizer (shared by the PTB and caption-metric tests)."""

from __future__ import annotations

import random

# Cases from issue #19 where the old tokenizer disagreed with coco-caption.
TRICKY = [
    "A man's dog isn't here.",
    "a well-known 3.5 inch ... !?",
    "Two dogs 🐶🐶 playing in the snow ❤️",
    "The kids' toys aren't on the table; they're in the box.",
    "A 1,000-piece puzzle costs $12.50 (on sale).",
    '"Stop" sign at 3:30 p.m. on Main St.',
    "A café with crème brûlée, naïve art & a jalapeño!!",
    "black/white photo of a 3-year-old boy wearing a t-shirt...",
    "I'm sure we'll see 50% more people -- maybe.",
    "It's a dog?! No, it's a cat…",
    "Mr. Smith's U.S. flag, e.g. the big one.",
    "can't won't don't cannot gonna",
]

NOUNS = "man woman dog cat pizza bus train kid table street horse bird phone skier".split()
ADJS = "red big small old young wooden white black happy busy".split()
VERBS = "sits stands runs eats holds rides looks plays walks lies".split()
PREPS = "on in near with under behind beside at over".split()
DETS = "a the two some an one this".split()
PHENOMENA = [
    "{n}'s", "{n}s'", "{n}’s", "isn't", "can't", "won't", "it's", "they're", "we'll", "he'd",
    "I've", "I'm", "don't", "DOESN'T", "Aren't", "cannot", "gonna", "o'clock", "'90s",
    "rock'n'roll", "y'all", "ma'am", "well-known", "3-year-old", "x-ray", "black-and-white",
    "t-shirt", "-", "--", "—", "–", "3.5", "0.75", ".5", "-2.5", "1,000", "12,500",
    "1,000,000.25", "...", "…", "!?", "?!", "!!", "??", "?", "!", "\"{n}\"", "'{n}'",
    "“{n}”", "‘{n}’", "``{n}''", "({n})", "[{n}]", "{{{n}}}", "( {n} )", "😀", "🐶", "❤️",
    "👍🏽", "☕", "café", "naïve", "jalapeño", "crème brûlée", "Zürich", "São Paulo",
    "résumé", "and/or", "black/white", "24/7", "1/2", "3 1/2", "½", "fish & chips", "AT&T",
    "R&B", "b&w", "&amp;", "3:30", "10:45pm", "12:00 p.m.", "7 a.m.", "50%", "99.9 %",
    "www.example.com", "http://foo.org/bar", "example.com", "foo@bar.com", "$5", "$3.50",
    "£10", "€20", "5¢", "Mr. Smith", "St. Louis", "U.S.", "e.g.", "etc.", "Dr. Who", "vs.",
    "No. 5", "a.m.", "1st", "2nd", "90s", "#selfie", "@home", "+", "=", "*", "~", "°",
    "20°C", "×", "™", "<unk>", "<b>", ":)", ";-)", ":D", "Ph.D.", "3.", "{n}.,", "a.b.c",
    "{n}!{n}", "{n}_{n}", "__", "&", "a&b", "A&B", "C++", "#1", "{n}..", "....", "......",
    "U.S.A. The", "A. B.", "i.e.,", "no.1", "Calif.", "Jan. {n}", "\t", "   ", "'{n}",
    "{n}'", "`", "''", "'s", "n't", "'tis", "'twas", "wanna", "Gotta", "lemme", "gimme",
    "1990's", "'em", "'cause", "c'mon", "5'11", "6' tall", "3'4\"", "&quot;", "&lt;",
    "{n}—{n}", "{n}--{n}", "{n}-", "-{n}", "Zoë's", "Ωmega", "日本", "Привет мир",
    "مرحبا", "¿qué?", "¡hola!", "a+b", "1+1=2", "2x4", "100km", "#{n}", "\u00a0", "\u200b",
    "·", "•", "§", "©", "®", "¼", "¥100", "a‘b", "don’t", "\u2019{n}", "{n}\u2019",
]  # fmt: skip


def varied_captions(num_captions: int, *, seed: int = 0) -> list[str]:
    """Captions made of plain words plus one to four phenomena from PHENOMENA."""
    rng = random.Random(seed)
    out = []
    for _ in range(num_captions):
        words = [
            rng.choice(DETS), rng.choice(ADJS), rng.choice(NOUNS), rng.choice(VERBS),
            rng.choice(PREPS), rng.choice(DETS), rng.choice(NOUNS),
        ]  # fmt: skip
        for _ in range(rng.randint(1, 4)):
            piece = rng.choice(PHENOMENA).format(n=rng.choice(NOUNS))
            words.insert(rng.randint(0, len(words)), piece)
        case = rng.random()
        text = " ".join(words)
        if case < 0.3:
            text = text[0].upper() + text[1:]
        elif case < 0.4:
            text = text.upper()
        elif case < 0.5:
            text = text.title()
        text += rng.choice(["", ".", ".", " .", "!", "?", "...", " !?", ",", ";", ":", ".."])
        out.append(text)
    return out
