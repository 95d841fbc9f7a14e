// corpus.js: the text generator of optimize-compress. Hidden from the agent, like evaluate.js.
//
// It writes English-like prose from a seed: chapters, paragraphs, narration and dialogue built
// from a small grammar, with word frequencies that follow Zipf's law. The common English words
// (articles, pronouns, prepositions, frequent nouns and verbs) are the same for every seed; the
// rarer words and the characters' names are invented from syllables per seed, and every seed
// ranks the words differently. So the shipped sample.txt shows the statistics of the scored
// texts without containing them: a static dictionary of English helps a little, a compressor
// that learns from the text it is reading helps a lot.

const DETERMINERS = ['the', 'a', 'his', 'her', 'their', 'this', 'that', 'every', 'some', 'no', 'its', 'one', 'my', 'our', 'each', 'another'];
const PRONOUNS = ['he', 'she', 'they', 'it', 'we', 'I', 'you', 'nobody', 'everyone'];
const PREPOSITIONS = ['of', 'in', 'to', 'on', 'with', 'at', 'from', 'by', 'into', 'over', 'under', 'through', 'behind', 'across', 'near', 'after', 'before', 'beyond', 'along', 'against'];
const CONJUNCTIONS = ['and', 'but', 'so', 'while', 'because', 'although', 'until', 'when', 'as', 'though', 'yet', 'or'];
const AUXILIARIES = ['could', 'would', 'had', 'might', 'should', 'did not', 'could not', 'would not', 'had never', 'must'];
const COMMON_NOUNS = [
  'man', 'time', 'house', 'door', 'day', 'night', 'hand', 'eye', 'way', 'room', 'world', 'life', 'woman', 'head', 'face',
  'voice', 'place', 'window', 'road', 'water', 'light', 'word', 'river', 'town', 'child', 'letter', 'mother', 'father',
  'friend', 'heart', 'table', 'fire', 'morning', 'evening', 'year', 'king', 'ship', 'garden', 'street', 'horse', 'sea',
  'city', 'name', 'book', 'boy', 'girl', 'moment', 'church', 'mind', 'air', 'wall', 'sun', 'hill', 'stone', 'winter',
  'summer', 'field', 'doctor', 'captain', 'money', 'paper', 'bed', 'floor', 'sky', 'forest', 'bridge', 'village', 'dog',
  'silence', 'reason', 'answer', 'question', 'story', 'truth', 'war', 'dream', 'corner', 'shadow', 'kitchen', 'lamp',
];
const COMMON_VERBS = [
  'said', 'saw', 'took', 'found', 'knew', 'thought', 'came', 'went', 'made', 'told', 'gave', 'looked at', 'heard',
  'felt', 'left', 'kept', 'brought', 'held', 'turned', 'opened', 'closed', 'watched', 'followed', 'remembered',
  'carried', 'wanted', 'asked', 'answered', 'loved', 'feared', 'reached', 'lost', 'met', 'passed', 'touched',
  'noticed', 'crossed', 'built', 'read', 'wrote', 'called', 'forgot', 'seemed to see', 'began to understand',
];
const INTRANSITIVE = ['smiled', 'laughed', 'waited', 'nodded', 'sighed', 'paused', 'listened', 'slept', 'wept', 'stood still', 'sat down', 'looked away', 'went on', 'said nothing', 'turned back'];
const COMMON_ADJECTIVES = [
  'old', 'little', 'long', 'great', 'small', 'young', 'dark', 'white', 'black', 'good', 'cold', 'last', 'strange',
  'quiet', 'whole', 'poor', 'red', 'empty', 'heavy', 'narrow', 'bright', 'open', 'soft', 'distant', 'grey', 'tired',
  'green', 'high', 'deep', 'sudden', 'warm', 'silent', 'broken', 'early', 'late', 'wide', 'pale', 'wet', 'ancient',
];
const ADVERBS = ['slowly', 'again', 'never', 'always', 'once', 'quickly', 'softly', 'still', 'perhaps', 'only', 'almost', 'suddenly', 'at last', 'at once', 'for a while', 'in silence', 'without a word'];
const SPEECH_VERBS = ['said', 'asked', 'replied', 'whispered', 'cried', 'answered', 'muttered', 'called'];
const OPENERS = ['Then', 'But', 'At last', 'After a while', 'In the morning', 'That night', 'For a long time', 'Once', 'Still', 'Now', 'Later', 'Soon'];
const EXCLAMATIONS = ['Well', 'No', 'Yes', 'Oh', 'Come', 'Listen', 'Look', 'Wait'];
const NUMBER_WORDS = ['two', 'three', 'four', 'five', 'six', 'seven', 'ten', 'twelve', 'twenty', 'a hundred', 'a thousand'];

const ONSETS = ['b', 'br', 'c', 'ch', 'cl', 'd', 'dr', 'f', 'fl', 'g', 'gr', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'pl', 'pr', 'r', 's', 'sh', 'sk', 'sl', 'sp', 'st', 't', 'th', 'tr', 'v', 'w', 'wh', '', ''];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ai', 'ea', 'ee', 'ou', 'oo', 'ie', 'y'];
const CODAS = ['', '', '', 'n', 'r', 's', 't', 'l', 'nd', 'st', 'rk', 'll', 'ng', 'm', 'ck', 'th', 'rt', 'nt', 'sh'];
const NOUN_ENDINGS = ['', '', '', 'er', 'ing', 'ness', 'ment', 'ard', 'ion', 'age'];
const ADJECTIVE_ENDINGS = ['ous', 'ful', 'ish', 'ic', 'en', 'y', 'less', 'ant', 'al'];
const NAME_ENDINGS = ['', 'a', 'on', 'el', 'in', 'ia', 'ard', 'ick', 'ette', 'o'];
const ACCENTED = { e: 'é', a: 'á', o: 'ö', u: 'ü', i: 'ï' };

/** The text of one document: about `targetBytes` UTF-8 bytes, the same for the same seed. */
export function generateText(seed, targetBytes) {
  const random = createRandom(seed);
  const style = chooseStyle(random);
  const lexicon = buildLexicon(random);
  const paragraphs = [];
  let bytes = 0;
  let chapter = 0;
  while (bytes < targetBytes) {
    if (chapter === 0 || random() < style.chapterOdds) {
      chapter++;
      const heading = style.headings ? `CHAPTER ${toRoman(chapter)}.${random() < 0.5 ? '' : ` ${capitalize(phrase(lexicon, random))}.`}` : '* * *';
      paragraphs.push(heading);
    }
    const paragraph = writeParagraph(lexicon, style, random);
    paragraphs.push(style.wrap > 0 ? wrap(paragraph, style.wrap) : paragraph);
    bytes += Buffer.byteLength(paragraph) + 2;
  }
  return `${paragraphs.join('\n\n')}\n`;
}

function chooseStyle(random) {
  const curly = random() < 0.5;
  return {
    open: curly ? '\u201c' : '"',
    close: curly ? '\u201d' : '"',
    dash: random() < 0.5 ? '\u2014' : ' -- ',
    wrap: random() < 0.6 ? 68 + Math.floor(random() * 12) : 0,
    headings: random() < 0.7,
    chapterOdds: 0.02 + random() * 0.03,
    dialogue: 0.15 + random() * 0.3,
  };
}

function buildLexicon(random) {
  const invented = new Set();
  const invent = (syllables, endings) => {
    for (;;) {
      let word = '';
      for (let s = 0; s < syllables; s++) word += pick(ONSETS, random) + pick(VOWELS, random) + pick(CODAS, random);
      word += pick(endings, random);
      if (word.length >= 3 && !invented.has(word)) {
        invented.add(word);
        return word;
      }
    }
  };
  const many = (count, make) => Array.from({ length: count }, make);
  const nouns = mix(COMMON_NOUNS, many(700, () => invent(1 + Math.floor(random() * 2), NOUN_ENDINGS)), random);
  const verbs = mix(COMMON_VERBS, many(300, () => `${invent(1 + Math.floor(random() * 2), [''])}ed`), random);
  const adjectives = mix(COMMON_ADJECTIVES, many(300, () => invent(1 + Math.floor(random() * 2), ADJECTIVE_ENDINGS)), random);
  const adverbs = mix(ADVERBS, adjectives.slice(40, 140).map((a) => `${a.replace(/y$/, 'i')}ly`), random);
  const names = many(40, () => {
    let name = capitalize(invent(1 + Math.floor(random() * 2), NAME_ENDINGS));
    if (random() < 0.15) name = name.replace(/[aeiou](?!.*[aeiou])/, (v) => ACCENTED[v] ?? v);
    return name;
  });
  const places = many(15, () => capitalize(invent(2, ['', 'ton', 'ford', 'holm', 'wick', 'bury'])));
  return {
    nouns: zipf(nouns, 1.0),
    verbs: zipf(verbs, 1.0),
    intransitive: zipf(shuffle([...INTRANSITIVE], random), 1.0),
    adjectives: zipf(adjectives, 1.05),
    adverbs: zipf(adverbs, 1.1),
    determiners: zipf(DETERMINERS, 1.3),
    pronouns: zipf(PRONOUNS, 1.2),
    prepositions: zipf(PREPOSITIONS, 1.1),
    conjunctions: zipf(CONJUNCTIONS, 1.0),
    auxiliaries: zipf(AUXILIARIES, 1.0),
    names: zipf(names, 1.3),
    places: zipf(places, 1.2),
    speech: zipf(SPEECH_VERBS, 1.5),
  };
}

/** Common words mostly keep their rank, invented ones fill in below; a seed reorders both. */
function mix(common, invented, random) {
  const ranked = [...common];
  for (let i = 0; i < ranked.length - 1; i++) {
    if (random() < 0.4) {
      const j = Math.min(ranked.length - 1, i + 1 + Math.floor(random() * 6));
      [ranked[i], ranked[j]] = [ranked[j], ranked[i]];
    }
  }
  const result = [];
  let c = 0;
  for (const word of invented) {
    while (c < ranked.length && random() < 0.6) result.push(ranked[c++]);
    result.push(word);
  }
  while (c < ranked.length) result.push(ranked[c++]);
  return result;
}

function writeParagraph(lexicon, style, random) {
  const count = 2 + Math.floor(random() * 6);
  const sentences = [];
  const speech = random() < style.dialogue;
  for (let i = 0; i < count; i++) sentences.push(speech && i === 0 ? dialogue(lexicon, style, random) : sentence(lexicon, style, random));
  return sentences.join(' ');
}

function dialogue(lexicon, style, random) {
  let words = clause(lexicon, random);
  if (random() < 0.3) words = `${pick(EXCLAMATIONS, random)}, ${words}`;
  const question = random() < 0.3;
  const speaker = random() < 0.7 ? draw(lexicon.names, random) : draw(lexicon.pronouns, random);
  const verb = question ? 'asked' : draw(lexicon.speech, random);
  return `${style.open}${capitalize(words)}${question ? '?' : ','}${style.close} ${verb} ${speaker}.`;
}

function sentence(lexicon, style, random) {
  let text = clause(lexicon, random);
  const r = random();
  if (r < 0.25) text += `, ${draw(lexicon.conjunctions, random)} ${clause(lexicon, random)}`;
  else if (r < 0.32) text += `${style.dash}${nounPhrase(lexicon, random, 1)}${style.dash === ' -- ' ? ' --' : '\u2014'} ${clause(lexicon, random)}`;
  else if (r < 0.38) text += ` in ${random() < 0.5 ? 1700 + Math.floor(random() * 250) : draw(lexicon.places, random)}`;
  if (random() < 0.12) text = `${pick(OPENERS, random)} ${text}`;
  const end = random();
  return `${capitalize(text)}${end < 0.9 ? '.' : end < 0.96 ? '!' : '?'}`;
}

function clause(lexicon, random) {
  const subject = random() < 0.45 ? (random() < 0.5 ? draw(lexicon.pronouns, random) : draw(lexicon.names, random)) : nounPhrase(lexicon, random, 1);
  const r = random();
  let verbPhrase;
  if (r < 0.5) verbPhrase = `${draw(lexicon.verbs, random)} ${nounPhrase(lexicon, random, 1)}`;
  else if (r < 0.65) verbPhrase = draw(lexicon.intransitive, random);
  else if (r < 0.8) verbPhrase = `${draw(lexicon.auxiliaries, random)} ${presentOf(draw(lexicon.verbs, random))} ${nounPhrase(lexicon, random, 1)}`;
  else verbPhrase = `was ${random() < 0.5 ? draw(lexicon.adjectives, random) : `${draw(lexicon.prepositions, random)} ${nounPhrase(lexicon, random, 1)}`}`;
  if (random() < 0.25) verbPhrase += ` ${draw(lexicon.adverbs, random)}`;
  return `${subject} ${verbPhrase}`;
}

function nounPhrase(lexicon, random, depth) {
  let noun = draw(lexicon.nouns, random);
  if (random() < 0.12) noun = noun.endsWith('s') || noun.endsWith('sh') ? `${noun}es` : `${noun}s`;
  const r = random();
  let words;
  if (r < 0.08) words = `${pick(NUMBER_WORDS, random)} ${noun.endsWith('s') ? noun : `${noun}s`}`;
  else if (r < 0.13) words = `${draw(lexicon.names, random)}'s ${noun}`;
  else {
    let determiner = draw(lexicon.determiners, random);
    const adjective = random() < 0.35 ? `${draw(lexicon.adjectives, random)} ` : '';
    if (determiner === 'a' && /^[aeiou]/.test(adjective || noun)) determiner = 'an';
    words = `${determiner} ${adjective}${noun}`;
  }
  if (depth > 0 && random() < 0.3) words += ` ${draw(lexicon.prepositions, random)} ${nounPhrase(lexicon, random, depth - 1)}`;
  return words;
}

function phrase(lexicon, random) {
  return random() < 0.5 ? nounPhrase(lexicon, random, 0) : `${draw(lexicon.prepositions, random)} ${nounPhrase(lexicon, random, 0)}`;
}

// "looked at" → "look at", "took" → "take": close enough for invented text, and deterministic.
const PRESENT = { said: 'say', saw: 'see', took: 'take', found: 'find', knew: 'know', thought: 'think', came: 'come', went: 'go', made: 'make', told: 'tell', gave: 'give', heard: 'hear', felt: 'feel', left: 'leave', kept: 'keep', brought: 'bring', held: 'hold', met: 'meet', built: 'build', read: 'read', wrote: 'write', forgot: 'forget', lost: 'lose' };
function presentOf(verb) {
  const [first = '', ...rest] = verb.split(' ');
  const base = PRESENT[first] ?? first.replace(/ied$/, 'y').replace(/ed$/, '');
  return [base, ...rest].join(' ');
}

function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push(line);
  return lines.join('\n');
}

function zipf(words, exponent) {
  const cumulative = new Float64Array(words.length);
  let total = 0;
  for (let i = 0; i < words.length; i++) cumulative[i] = total += 1 / (i + 1) ** exponent;
  return { words, cumulative, total };
}

function draw(table, random) {
  const target = random() * table.total;
  let lo = 0;
  let hi = table.words.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table.cumulative[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return table.words[lo];
}

function pick(list, random) {
  return list[Math.floor(random() * list.length)];
}

function shuffle(list, random) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function toRoman(n) {
  const table = [[40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];
  let out = '';
  for (const [value, letters] of table) while (n >= value) (out += letters), (n -= value);
  return out;
}

/** sfc32 seeded through splitmix32: small, fast, and the same numbers for the same seed. */
function createRandom(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
