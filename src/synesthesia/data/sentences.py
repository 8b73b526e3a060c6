"""Built-in sentences to synthesise: GRID-style commands, general English, everyday English
(a wider-vocabulary training pool), digit strings.

Every generator is seeded and *prefix-stable*: sentence ``i`` depends only on ``(seed, i)``
(its own ``numpy.random.default_rng([seed, i])``), so asking for more sentences keeps the first
ones unchanged (which makes corpora resumable and extendable).

A :class:`Sentence` has two forms, like LJSpeech's metadata: ``text`` (as written: digits,
capitals, punctuation) and ``normalized`` (what a text-to-speech front end should read:
numbers spelled out, and the GRID letter "a" written "eh" because eSpeak reads a lone "a" as
the article /ə/). Transcripts for word error rates come from ``text`` through
:func:`transcript_words` (lower case, numbers spelled out, punctuation removed), so the
reference words are dictionary words ("a", "seven") a speech recogniser can output.

References:
    Cooke, Barker, Cunningham, Shao, "An audio-visual corpus for speech perception and
    automatic speech recognition" (GRID), JASA 2006 — the sentence grammar only; no corpus
    text is copied. The general and everyday sentences are written for this package.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synesthesia.errors import ParameterError
from synesthesia.text.transcript import normalize_numbers, number_to_words, transcript_words

__all__ = [
    "Sentence",
    "GRID_COMMANDS",
    "GRID_COLOURS",
    "GRID_PREPOSITIONS",
    "GRID_LETTERS",
    "GRID_ADVERBS",
    "DIGITS",
    "GRID_SLOTS",
    "GENERAL_SENTENCES",
    "SENTENCE_KINDS",
    "everyday_pool",
    "everyday_sentences",
    "number_to_words",
    "normalize_numbers",
    "transcript_words",
    "grid_sentences",
    "general_sentences",
    "digit_sentences",
    "make_sentences",
    "vocabulary",
    "is_heldout_sentence",
    "heldout_sentences",
]

GRID_COMMANDS = ("bin", "lay", "place", "set")
GRID_COLOURS = ("blue", "green", "red", "white")
GRID_PREPOSITIONS = ("at", "by", "in", "with")
#: the 25 letters of GRID (no "w", whose name has three syllables)
GRID_LETTERS = tuple("abcdefghijklmnopqrstuvxyz")
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
GRID_ADVERBS = ("again", "now", "please", "soon")
#: the six word slots of a GRID sentence, in order
GRID_SLOTS = (GRID_COMMANDS, GRID_COLOURS, GRID_PREPOSITIONS, GRID_LETTERS, DIGITS, GRID_ADVERBS)

#: kinds accepted by :func:`make_sentences`
SENTENCE_KINDS = ("grid", "general", "digits", "mixed", "everyday", "broad")

_SPOKEN_LETTER = {"a": "eh"}  # eSpeak reads a lone "a" as the article; "eh" gives /eɪ/


@dataclass(frozen=True)
class Sentence:
    """One sentence in written and spoken form.

    Attributes:
        text: as written ("The baker bought 7 eggs.").
        normalized: what to speak and what a text-to-speech model reads ("The baker bought
            seven eggs.").
        kind: "grid", "general", "everyday" or "digits".
    """

    text: str
    normalized: str
    kind: str

    @property
    def words(self) -> list[str]:
        """Reference words for word error rates: :func:`transcript_words` of ``text``."""
        return transcript_words(self.text)


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def _check_count(num_sentences: int, seed: int) -> None:
    if isinstance(num_sentences, bool) or not isinstance(num_sentences, int) or num_sentences < 0:
        raise ParameterError(f"num_sentences={num_sentences!r} must be a non-negative integer")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")


# -- GRID ------------------------------------------------------------------------------------
def _grid(rng: np.random.Generator) -> Sentence:
    words = [slot[rng.integers(len(slot))] for slot in GRID_SLOTS]
    text = " ".join(words)
    spoken = " ".join(_SPOKEN_LETTER.get(w, w) if i == 3 else w for i, w in enumerate(words))
    return Sentence(text=text, normalized=spoken, kind="grid")


def grid_sentences(num_sentences: int, *, seed: int = 0) -> list[Sentence]:
    """GRID-style commands "command colour preposition letter digit adverb".

    Example: ``"place red at f two now"`` (text) / the same with "a" spoken "eh".

    Args:
        num_sentences: how many.
        seed: sentence ``i`` is drawn from ``default_rng([seed, i])``.
    """
    _check_count(num_sentences, seed)
    return [_grid(_rng(seed, i)) for i in range(num_sentences)]


# -- digit strings ---------------------------------------------------------------------------
def _digits(rng: np.random.Generator, min_digits: int, max_digits: int) -> Sentence:
    count = int(rng.integers(min_digits, max_digits + 1))
    values = rng.integers(10, size=count)
    return Sentence(
        text=" ".join(str(v) for v in values),
        normalized=" ".join(DIGITS[v] for v in values),
        kind="digits",
    )


def digit_sentences(
    num_sentences: int, *, seed: int = 0, min_digits: int = 3, max_digits: int = 7
) -> list[Sentence]:
    """Digit strings such as text ``"4 0 7"`` / normalized ``"four zero seven"``.

    Args:
        num_sentences: how many.
        seed: sentence ``i`` is drawn from ``default_rng([seed, i])``.
        min_digits: fewest digits per string (>= 1).
        max_digits: most digits per string (>= min_digits).
    """
    _check_count(num_sentences, seed)
    if isinstance(min_digits, bool) or not isinstance(min_digits, int) or min_digits < 1:
        raise ParameterError(f"min_digits={min_digits!r} must be a positive integer")
    if isinstance(max_digits, bool) or not isinstance(max_digits, int) or max_digits < min_digits:
        raise ParameterError(f"max_digits={max_digits!r} must be an integer >= {min_digits}")
    return [_digits(_rng(seed, i), min_digits, max_digits) for i in range(num_sentences)]


# -- general English -------------------------------------------------------------------------
_HANDWRITTEN = """\
The sun came up over the quiet valley.
She left her umbrella on the morning bus.
We planted tomatoes along the south wall of the garden.
The children laughed when the puppy chased its own tail.
A cold wind blew across the empty parking lot.
He forgot to turn off the oven before he went out.
The library closes early on Saturday.
Please bring a warm jacket, because the evening will be cold.
The old bridge was closed for repairs last summer.
My grandmother makes the best apple pie in town.
The river rose quickly after three days of heavy rain.
They walked home through the park after the concert.
The baby finally fell asleep in her mother's arms.
Turn left at the second light and park behind the bank.
The museum has a large collection of ancient coins.
I would like a cup of tea with a little milk.
The storm knocked down two trees on our street.
Nobody knew where the strange letter had come from.
The team practiced every afternoon for a month.
Our flight was delayed by almost four hours.
The farmer checked the fences before the snow arrived.
Fresh bread smells wonderful early in the morning.
The teacher wrote a long list of words on the board.
Can you tell me how to get to the train station?
The lights went out just as the movie began.
A small bird built a nest above the kitchen door.
He painted the walls a pale shade of yellow.
The price of gas went up again this week.
Let us meet at the corner cafe at noon.
The doctor told him to rest for a few days.
The ship sailed slowly into the harbor at dusk.
Her voice was calm, but her hands were shaking.
The cat sleeps by the warm window all afternoon.
We need more chairs for the meeting tomorrow.
The soup was too hot to eat right away.
They found an old map hidden inside the book.
The road to the village winds through the hills.
Please close the window before you leave the room.
The orchestra played until midnight.
My brother fixed the leaking pipe under the sink.
The leaves turn red and gold in the fall.
She read the instructions twice before she started.
The bus was crowded, so we decided to walk.
A loud noise woke the whole family in the night.
The garden is full of bees in the spring.
He keeps his tools in a wooden box in the garage.
The market sells fresh fish every Friday.
We watched the stars from the top of the hill.
The new student sat quietly at the back of the class.
The bakery on the corner opens at six.
Rain is expected later this afternoon.
The mountain path is steep and narrow near the top.
I left my keys on the kitchen table again.
The pilot announced that we would land soon.
The clock in the hall stopped at a quarter past nine.
She sent a postcard from every city she visited.
The kettle whistled loudly on the stove.
The fox crept silently past the sleeping dog.
They painted a large mural on the side of the school.
Water boils at a lower temperature high in the mountains.
The shop around the corner sells used books.
A thick fog covered the town this morning.
He carried the heavy boxes up three flights of stairs.
The puppy chewed a hole in my favorite shoe.
We ate dinner outside because the evening was warm.
The guard opened the gate and waved us through.
Her garden is famous for its roses.
The lake froze early this winter.
The machine makes a strange sound when it starts.
Please write your name at the top of the page.
"""

_SUBJECTS = (
    "The farmer", "My sister", "The old man", "A young girl", "Our teacher", "The baker",
    "My uncle", "The doctor", "Her brother", "The captain", "A tall woman", "The little boy",
    "Our neighbor", "The driver", "My friend", "The painter",
)  # fmt: skip
_VERBS = (
    ("painted", "paint"), ("carried", "carry"), ("found", "find"), ("cleaned", "clean"),
    ("opened", "open"), ("moved", "move"), ("washed", "wash"), ("repaired", "repair"),
    ("dropped", "drop"), ("sold", "sell"), ("borrowed", "borrow"), ("watched", "watch"),
    ("packed", "pack"), ("brought", "bring"), ("lost", "lose"), ("checked", "check"),
)  # fmt: skip
_OBJECTS = (
    "the old fence", "a heavy box", "the red door", "her blue bicycle", "the kitchen window",
    "a small boat", "the wooden chair", "his brown coat", "the garden gate",
    "a basket of apples", "the broken clock", "an empty bottle", "the new lamp",
    "a bag of rice", "the green blanket", "the silver key",
)  # fmt: skip
_PLACES = (
    "behind the school", "near the river", "in the garden", "on the bridge",
    "at the station", "under the table", "beside the library", "in the kitchen",
    "by the lake", "on the hill", "at the market", "in the hallway",
)  # fmt: skip
_TIMES = (
    "Yesterday", "Last night", "This morning", "On Sunday", "After lunch", "Before dinner",
    "Early in the morning", "Late last week",
)  # fmt: skip
_PLURALS = (
    "apples", "books", "candles", "cups", "eggs", "flowers", "pencils", "plates", "shirts",
    "tickets",
)  # fmt: skip
_ADJECTIVES = (
    "quiet", "bright", "narrow", "heavy", "clean", "dark", "warm", "noisy", "old", "empty",
    "large", "small",
)  # fmt: skip
_NOUNS = ("room", "street", "house", "kitchen", "office", "garden", "station", "shop")


def _templated(rng: np.random.Generator) -> str:
    pick = lambda items: items[rng.integers(len(items))]  # noqa: E731
    form = int(rng.integers(8))
    subject, (past, base) = pick(_SUBJECTS), pick(_VERBS)
    obj, place = pick(_OBJECTS), pick(_PLACES)
    if form == 0:
        return f"{subject} {past} {obj} {place}."
    if form == 1:
        return f"{pick(_TIMES)}, {subject[0].lower() + subject[1:]} {past} {obj}."
    if form == 2:
        return f"Did {subject[0].lower() + subject[1:]} {base} {obj} {place}?"
    if form == 3:
        return f"Please {base} {obj} {place}."
    if form == 4:
        count, price = int(rng.integers(2, 13)), int(rng.integers(3, 100))
        return f"{subject} bought {count} {pick(_PLURALS)} for {price} dollars."
    if form == 5:
        first, second = rng.choice(len(_ADJECTIVES), size=2, replace=False)
        return f"The {pick(_NOUNS)} is {_ADJECTIVES[first]} and {_ADJECTIVES[second]}."
    if form == 6:
        return f"There are {int(rng.integers(2, 20))} {pick(_PLURALS)} {place}."
    number = int(rng.integers(100, 1000))
    return f"{subject} lives in room {number} {pick(('upstairs', 'downstairs'))}."


def _build_general(num_templated: int = 330, seed: int = 2026) -> tuple[str, ...]:
    lines = [line.strip() for line in _HANDWRITTEN.splitlines() if line.strip()]
    seen = set(lines)
    rng = np.random.default_rng(seed)
    templated = []
    while len(templated) < num_templated:
        sentence = _templated(rng)
        if sentence not in seen:
            seen.add(sentence)
            templated.append(sentence)
    return tuple(lines + templated)


#: about 400 varied English sentences (70 hand-written, the rest from templates; written for
#: this package, not taken from any corpus)
GENERAL_SENTENCES: tuple[str, ...] = _build_general()


def general_sentences(num_sentences: int, *, seed: int = 0) -> list[Sentence]:
    """English sentences drawn from :data:`GENERAL_SENTENCES` (with replacement).

    ``text`` keeps digits ("7 eggs"); ``normalized`` spells them out ("seven eggs").
    """
    _check_count(num_sentences, seed)
    return [_general(_rng(seed, i)) for i in range(num_sentences)]


def _general(rng: np.random.Generator) -> Sentence:
    text = GENERAL_SENTENCES[int(rng.integers(len(GENERAL_SENTENCES)))]
    return Sentence(text=text, normalized=normalize_numbers(text), kind="general")


# -- everyday English (training only) --------------------------------------------------------
_EVERYDAY_PATH = Path(__file__).resolve().parents[1] / "assets" / "everyday_sentences.txt"


@functools.cache
def everyday_pool() -> tuple[str, ...]:
    """About 1,200 everyday English sentences with a wide vocabulary (package data
    ``synesthesia/assets/everyday_sentences.txt``, written for this package).

    They widen what a text-to-speech model hears in training: the ~400
    :data:`GENERAL_SENTENCES` use few words outside their templates. They are never test
    sentences: :func:`heldout_sentences` draws only from :data:`GENERAL_SENTENCES` and GRID,
    and any everyday sentence that :func:`is_heldout_sentence` marks is dropped from training
    like every other.
    """
    lines = [line.strip() for line in _EVERYDAY_PATH.read_text("utf-8").splitlines()]
    return tuple(line for line in lines if line)


def _everyday(rng: np.random.Generator) -> Sentence:
    pool = everyday_pool()
    text = pool[int(rng.integers(len(pool)))]
    return Sentence(text=text, normalized=normalize_numbers(text), kind="everyday")


def everyday_sentences(num_sentences: int, *, seed: int = 0) -> list[Sentence]:
    """Sentences drawn from :func:`everyday_pool` (with replacement; digits spelled out in
    ``normalized``)."""
    _check_count(num_sentences, seed)
    return [_everyday(_rng(seed, i)) for i in range(num_sentences)]


def make_sentences(kind: str, num_sentences: int, *, seed: int = 0) -> list[Sentence]:
    """``num_sentences`` sentences of ``kind`` (one of :data:`SENTENCE_KINDS`).

    "mixed" draws each sentence's kind (grid 40 %, general 40 %, digits 20 %) from
    ``default_rng([seed, i])``; "broad" likewise draws grid 40 %, general 20 %, everyday 30 %,
    digits 10 % (the text-to-speech recipe: the same GRID share, more varied English). All
    kinds are prefix-stable.
    """
    _check_count(num_sentences, seed)
    if kind not in SENTENCE_KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {SENTENCE_KINDS}")
    if kind == "grid":
        return grid_sentences(num_sentences, seed=seed)
    if kind == "general":
        return general_sentences(num_sentences, seed=seed)
    if kind == "digits":
        return digit_sentences(num_sentences, seed=seed)
    if kind == "everyday":
        return everyday_sentences(num_sentences, seed=seed)
    # cumulative shares of grid, general, everyday (digits take the rest)
    edges = (0.4, 0.8, 0.8) if kind == "mixed" else (0.4, 0.6, 0.9)
    out = []
    for i in range(num_sentences):
        rng = _rng(seed, i)
        draw = rng.random()
        if draw < edges[0]:
            out.append(_grid(rng))
        elif draw < edges[1]:
            out.append(_general(rng))
        elif draw < edges[2]:
            out.append(_everyday(rng))
        else:
            out.append(_digits(rng, 3, 7))
    return out


def vocabulary(kind: str) -> list[str]:
    """Every reference word :func:`make_sentences` can produce for ``kind`` (sorted).

    Used to build a recogniser's word-loop grammar (see
    ``synesthesia.metrics.intelligibility.word_loop_grammar``).
    """
    if kind not in SENTENCE_KINDS:
        raise ParameterError(f"kind={kind!r} must be one of {SENTENCE_KINDS}")
    words: set[str] = set()
    if kind in ("grid", "mixed", "broad"):
        for slot in GRID_SLOTS:
            words.update(slot)
    if kind in ("digits", "mixed", "broad"):
        words.update(DIGITS)
    if kind in ("general", "mixed", "broad"):
        for text in GENERAL_SENTENCES:
            words.update(transcript_words(text))
    if kind in ("everyday", "broad"):
        for text in everyday_pool():
            words.update(transcript_words(text))
    return sorted(words)


# -- held-out sentences ----------------------------------------------------------------------
def is_heldout_sentence(text: str) -> bool:
    """Whether ``text`` is one of the sentences reserved for testing text-to-speech.

    About one sentence in ten: those whose :func:`transcript_words`, joined by spaces, have a
    SHA-1 digest that is 0 modulo 10. The rule depends on the words only (not on the seed,
    voice or corpus), so a training set can drop them (``data.drop_heldout`` of
    ``synesthesia tts train``) and a test set can be drawn from them later
    (:func:`heldout_sentences`).
    """
    words = " ".join(transcript_words(text))
    return int(hashlib.sha1(words.encode("utf-8")).hexdigest(), 16) % 10 == 0


def heldout_sentences(kind: str, num_sentences: int, *, seed: int = 0) -> list[Sentence]:
    """``num_sentences`` distinct held-out sentences (:func:`is_heldout_sentence`) of ``kind``.

    "grid" walks :func:`grid_sentences` with ``seed`` and keeps held-out ones (64,000 GRID
    sentences exist, about 6,400 of them held out); "general" takes the held-out members of
    :data:`GENERAL_SENTENCES` in a seeded order (about 40 exist: asking for more is an error).
    """
    _check_count(num_sentences, seed)
    if kind not in ("grid", "general"):
        raise ParameterError(f"kind={kind!r} must be 'grid' or 'general'")
    if kind == "general":
        pool = [t for t in GENERAL_SENTENCES if is_heldout_sentence(t)]
        if num_sentences > len(pool):
            raise ParameterError(
                f"num_sentences={num_sentences} exceeds the {len(pool)} held-out general sentences"
            )
        order = np.random.default_rng(seed).permutation(len(pool))[:num_sentences]
        return [
            Sentence(text=pool[i], normalized=normalize_numbers(pool[i]), kind="general")
            for i in order
        ]
    out: list[Sentence] = []
    seen: set[str] = set()
    index = 0
    while len(out) < num_sentences:
        sentence = _grid(_rng(seed, index))
        index += 1
        if sentence.text not in seen and is_heldout_sentence(sentence.text):
            seen.add(sentence.text)
            out.append(sentence)
    return out
