"""corpus.py: the text of optimize-lm, written by a seeded generator. Hidden from the agent.

Plain ASCII English-like prose: short stories of a few paragraphs with recurring characters,
places and things, dialogue, numbers, subject-verb agreement and pronouns that follow the
characters. Word choice is Zipf-like, so some words are common and many are rare. The same seed
always gives the same text; evaluate.py makes the training text from a fixed seed and the
validation text from a fresh random seed on every run.
"""

import random

NAMES = [("Anna", "she"), ("Tom", "he"), ("Maria", "she"), ("Peter", "he"), ("Lucy", "she"), ("John", "he"),
         ("Clara", "she"), ("Henry", "he"), ("Rose", "she"), ("Oliver", "he"), ("Edith", "she"), ("Samuel", "he"),
         ("Martha", "she"), ("George", "he"), ("Alice", "she"), ("Walter", "he"), ("Nora", "she"), ("Arthur", "he"),
         ("Ida", "she"), ("Felix", "he"), ("Grace", "she"), ("Hugo", "he"), ("Mabel", "she"), ("Ben", "he")]
ROLES = ["miller", "baker", "farmer", "sailor", "teacher", "doctor", "fisherman", "weaver", "smith", "shepherd",
         "carpenter", "gardener", "captain", "widow", "student", "stranger", "priest", "hunter", "merchant", "nurse"]
PLACES = ["village", "river", "forest", "harbour", "market", "church", "mill", "valley", "garden", "bridge",
          "station", "kitchen", "school", "field", "hill", "lake", "road", "inn", "castle", "island", "shop", "farm"]
# (singular, plural)
THINGS = [("letter", "letters"), ("boat", "boats"), ("horse", "horses"), ("basket", "baskets"), ("key", "keys"),
          ("lamp", "lamps"), ("coat", "coats"), ("book", "books"), ("apple", "apples"), ("dog", "dogs"),
          ("cat", "cats"), ("box", "boxes"), ("knife", "knives"), ("loaf", "loaves"), ("cup", "cups"),
          ("rope", "ropes"), ("clock", "clocks"), ("stone", "stones"), ("flower", "flowers"), ("bell", "bells"),
          ("window", "windows"), ("door", "doors"), ("child", "children"), ("sheep", "sheep"), ("fish", "fish"),
          ("candle", "candles"), ("hat", "hats"), ("wheel", "wheels"), ("map", "maps"), ("coin", "coins"),
          ("bottle", "bottles"), ("chair", "chairs"), ("song", "songs"), ("ship", "ships"), ("goose", "geese")]
ADJECTIVES = ["old", "little", "red", "quiet", "cold", "heavy", "bright", "broken", "small", "warm", "dark",
              "green", "strange", "white", "tall", "empty", "kind", "wet", "golden", "narrow", "careful", "tired",
              "wooden", "sharp", "gentle", "proud", "lonely", "silver", "young", "crooked", "distant", "rough"]
# (base, third person, past)
VERBS = [("carry", "carries", "carried"), ("find", "finds", "found"), ("open", "opens", "opened"),
         ("mend", "mends", "mended"), ("watch", "watches", "watched"), ("take", "takes", "took"),
         ("bring", "brings", "brought"), ("hide", "hides", "hid"), ("sell", "sells", "sold"),
         ("paint", "paints", "painted"), ("lose", "loses", "lost"), ("buy", "buys", "bought"),
         ("wash", "washes", "washed"), ("count", "counts", "counted"), ("keep", "keeps", "kept"),
         ("follow", "follows", "followed"), ("feed", "feeds", "fed"), ("pull", "pulls", "pulled"),
         ("leave", "leaves", "left"), ("clean", "cleans", "cleaned"), ("hold", "holds", "held"),
         ("see", "sees", "saw"), ("give", "gives", "gave"), ("make", "makes", "made")]
# (base, third person, past) of verbs of motion, followed by a place
MOTIONS = [("walk", "walks", "walked"), ("run", "runs", "ran"), ("go", "goes", "went"), ("ride", "rides", "rode"),
           ("hurry", "hurries", "hurried"), ("return", "returns", "returned"), ("come", "comes", "came"),
           ("climb", "climbs", "climbed"), ("wander", "wanders", "wandered"), ("row", "rows", "rowed")]
ADVERBS = ["slowly", "quickly", "quietly", "at once", "again", "alone", "carefully", "early", "late", "together",
           "without a word", "in the rain", "after dinner", "before dawn", "at last", "once more"]
TIMES = ["In the morning", "At noon", "That evening", "On Sunday", "Later", "The next day", "In the winter",
         "After a while", "Before long", "At midnight", "In the spring", "Every day", "Long ago", "One night"]
FEELINGS = ["happy", "afraid", "angry", "sad", "glad", "sure", "sorry", "surprised", "worried", "proud"]
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]
PREPOSITIONS = ["near", "behind", "beside", "under", "across", "beyond", "inside", "above", "past"]
POSSESSIVE = {"he": "his", "she": "her", "they": "their"}


def _zipf_weights(count, exponent=1.0):
    return [1.0 / (rank + 1) ** exponent for rank in range(count)]


class _Writer:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.weights = {}

    def pick(self, items, exponent=0.8):
        key = (id(items), exponent)
        if key not in self.weights:
            self.weights[key] = _zipf_weights(len(items), exponent)
        return self.rng.choices(items, weights=self.weights[key])[0]

    def chance(self, probability):
        return self.rng.random() < probability

    def story(self):
        """A story: a title line, then paragraphs about the same cast in the same setting."""
        cast = self.rng.sample(range(len(NAMES)), 3)
        people = [(NAMES[i][0], NAMES[i][1], self.pick(ROLES)) for i in cast]
        places = [self.pick(PLACES) for _ in range(3)]
        things = [self.pick(THINGS) for _ in range(4)]
        title = "The %s %s" % (self.pick(ADJECTIVES).capitalize(), self.pick(things)[0].capitalize())
        paragraphs = [self.paragraph(people, places, things) for _ in range(self.rng.randint(2, 5))]
        return title + "\n\n" + "\n\n".join(paragraphs) + "\n\n"

    def paragraph(self, people, places, things):
        sentences = []
        previous = None
        for _ in range(self.rng.randint(3, 7)):
            person = self.rng.choice(people)
            # A pronoun when the same person goes on, their name otherwise.
            subject = person[1].capitalize() if previous is person and self.chance(0.7) else person[0]
            sentences.append(self.sentence(subject, person, people, places, things))
            previous = person
        return " ".join(sentences)

    def noun_phrase(self, things, plural=None):
        singular, many = self.pick(things)
        if plural is None:
            plural = self.chance(0.3)
        if plural:
            count = self.pick(NUMBER_WORDS) if self.chance(0.4) else self.rng.choice(["the", "some", "all the"])
            noun = many
            words = [count] + ([self.pick(ADJECTIVES)] if self.chance(0.4) else []) + [noun]
        else:
            words = [self.rng.choice(["the", "the", "a", "that"])] + ([self.pick(ADJECTIVES)] if self.chance(0.5) else []) + [singular]
            if words[0] == "a" and words[1][0] in "aeiou":
                words[0] = "an"
        return " ".join(words)

    def sentence(self, subject, person, people, places, things):
        kind = self.rng.random()
        place = self.pick(places, 0.5)
        if kind < 0.22:
            verb = self.pick(VERBS)[2]
            tail = " %s the %s" % (self.rng.choice(PREPOSITIONS), place) if self.chance(0.5) else ""
            return "%s %s %s%s." % (subject, verb, self.noun_phrase(things), tail)
        if kind < 0.36:
            verb = self.pick(MOTIONS)[2]
            adverb = " " + self.pick(ADVERBS) if self.chance(0.5) else ""
            return "%s %s to the %s%s." % (subject, verb, place, adverb)
        if kind < 0.52:
            return self.dialogue(person, people, places, things)
        if kind < 0.62:
            other = self.rng.choice(people)
            company = " with " + other[0] if other is not person else ""
            who = subject.lower() if subject in POSSESSIVE or subject.lower() in POSSESSIVE else subject
            return "%s, %s %s%s to the %s." % (self.pick(TIMES), who, self.pick(MOTIONS)[2], company, place)
        if kind < 0.72:
            phrase = self.noun_phrase(things, plural=self.chance(0.5))
            be = "were" if self._is_plural(phrase) else "was"
            return "%s %s %s the %s." % (phrase.capitalize(), be, self.rng.choice(PREPOSITIONS), place)
        if kind < 0.82:
            verb = self.pick(VERBS)
            joiner = self.rng.choice([", and", ", but", " because", " so", " while"])
            other = self.rng.choice(people)
            return "%s %s %s%s %s %s %s." % (subject, verb[2], self.noun_phrase(things), joiner, other[0], self.pick(VERBS)[2], POSSESSIVE[other[1]] + " " + self.pick(things)[0])
        if kind < 0.9:
            return "%s was %s, for %s %s had %s." % (subject, self.pick(FEELINGS), POSSESSIVE[person[1]], self.pick(things)[0], self.rng.choice(["gone", "come back", "broken", "been found", "been sold"]))
        thing = self.pick(things)[1 if self.chance(0.4) else 0]
        return "The %s %s the %s every %s." % (person[2], self.pick(VERBS)[1], thing, self.rng.choice(["day", "week", "year", "morning", "Sunday"]))

    def dialogue(self, person, people, places, things):
        other = self.rng.choice([p for p in people if p is not person])
        if self.chance(0.5):
            question = self.rng.choice([
                "Where is the %s" % self.pick(things)[0],
                "Did you see %s at the %s" % (other[0], self.pick(places, 0.5)),
                "Why did %s %s the %s" % (other[1], self.pick(VERBS)[0], self.pick(things)[0]),
                "How many %s are there" % self.pick(things)[1],
                "Will you come to the %s" % self.pick(places, 0.5),
            ])
            return '"%s?" asked %s.' % (question, person[0])
        statement = self.rng.choice([
            "The %s is %s" % (self.pick(things)[0], self.pick(ADJECTIVES)),
            "I have %s %s" % (self.pick(NUMBER_WORDS), self.pick(things)[1]),
            "We must go to the %s before dark" % self.pick(places, 0.5),
            "%s %s the %s" % (other[0], self.pick(VERBS)[2], self.pick(things)[0]),
            "I am %s" % self.pick(FEELINGS),
        ])
        return '"%s," said %s to %s.' % (statement, person[0], other[0])

    @staticmethod
    def _is_plural(phrase):
        words = phrase.split()
        return words[0] in NUMBER_WORDS or words[0] in ("some", "all") or any(words[-1] == p and p != s for s, p in THINGS)


def generate_text(seed, size):
    """At least `size` bytes of ASCII text, cut to exactly `size`."""
    writer = _Writer(seed)
    parts = []
    total = 0
    while total < size:
        story = writer.story()
        parts.append(story)
        total += len(story)
    return "".join(parts)[:size]
