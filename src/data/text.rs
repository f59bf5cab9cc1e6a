//! Text as data: a vocabulary of characters or words fitted on training texts (id 0 pads, id 1 is
//! any token the vocabulary does not hold), texts as fixed-length sequences of token ids (what an
//! embedding reads), counts of character n-grams (what a bag-of-characters model or a
//! nearest-neighbour search reads), and the built-in word-language set (`assets/words.tsv`, built
//! by `scripts/build-words.mjs`).

use super::Dataset;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The id of the padding after a short text.
pub const PADDING: u32 = 0;
/// The id of a token the vocabulary does not hold.
pub const UNKNOWN: u32 = 1;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Characters,
    Words,
}

/// The tokens of a text: its characters, or its words (runs of letters and digits, lower-cased).
pub fn tokens(text: &str, level: Level) -> Vec<String> {
    match level {
        Level::Characters => text.chars().map(String::from).collect(),
        Level::Words => text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect(),
    }
}

/// A fitted vocabulary: `tokens[i]` has id `i + 2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    pub level: Level,
    pub tokens: Vec<String>,
    /// Texts are cut to this many tokens.
    pub max_len: usize,
    /// Texts are lower-cased before they are cut into tokens (words always are).
    #[serde(default)]
    pub lowercase: bool,
}

impl Vocabulary {
    /// The `max_size` most frequent tokens of `texts` (ties in order of first appearance).
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>, level: Level, max_size: usize, max_len: usize) -> Self {
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        for text in texts {
            for token in tokens(text, level) {
                let first = counts.len();
                counts.entry(token).or_insert((0, first)).0 += 1;
            }
        }
        let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
        Self {
            level,
            tokens: ranked.into_iter().take(max_size).map(|(t, _)| t).collect(),
            max_len,
            lowercase: false,
        }
    }

    /// Ids run from 0 to `size − 1`, padding and unknown included.
    pub fn size(&self) -> usize {
        self.tokens.len() + 2
    }

    /// `text` as `max_len` ids (cut, or padded with 0), and whether it was cut.
    pub fn encode(&self, text: &str) -> (Vec<f32>, bool) {
        let ids: HashMap<&str, u32> = self
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32 + 2))
            .collect();
        let all = if self.lowercase {
            tokens(&text.to_lowercase(), self.level)
        } else {
            tokens(text, self.level)
        };
        let cut = all.len() > self.max_len;
        let mut out: Vec<f32> = all
            .iter()
            .take(self.max_len)
            .map(|t| ids.get(t.as_str()).copied().unwrap_or(UNKNOWN) as f32)
            .collect();
        out.resize(self.max_len, PADDING as f32);
        (out, cut)
    }
}

impl Vocabulary {
    /// The text of `ids` (padding left out, an unknown token as �): characters one after
    /// another, words separated by spaces.
    pub fn decode(&self, ids: &[f32]) -> String {
        let tokens = ids.iter().filter(|&&id| id != PADDING as f32).map(|&id| {
            let i = id as usize;
            if i >= 2 && i < self.size() {
                self.tokens[i - 2].as_str()
            } else {
                "\u{fffd}"
            }
        });
        match self.level {
            Level::Characters => tokens.collect(),
            Level::Words => tokens.collect::<Vec<_>>().join(" "),
        }
    }
}

/// Counts of each text's character n-grams (1 to `n` long, the text between two boundary marks)
/// hashed into `buckets` bins, divided by the text's number of n-grams.
pub fn ngram_counts(text: &str, n: usize, buckets: usize) -> Vec<f32> {
    let chars: Vec<char> = std::iter::once('\u{2}').chain(text.chars()).chain(['\u{3}']).collect();
    let mut counts = vec![0.0f32; buckets];
    let mut total = 0.0;
    for len in 1..=n {
        for gram in chars.windows(len) {
            // FNV-1a over the n-gram's characters.
            let hash = gram.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
                (h ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3)
            });
            counts[(hash % buckets as u64) as usize] += 1.0;
            total += 1.0;
        }
    }
    counts.iter_mut().for_each(|c| *c /= total);
    counts
}

/// Labelled texts: each text's class index, and the class names.
#[derive(Clone, Debug, PartialEq)]
pub struct Texts {
    pub texts: Vec<String>,
    pub labels: Vec<u32>,
    pub classes: Vec<String>,
}

/// The built-in word-language set's lines (`language<TAB>word`): the words and their languages,
/// the languages in order of first appearance.
pub fn words(tsv: &str) -> Result<Texts, Error> {
    let (mut texts, mut labels, mut classes) = (Vec::new(), Vec::new(), Vec::<String>::new());
    for (i, line) in tsv.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some((language, word)) = line.split_once('\t') else {
            return Err(Error::InvalidData(format!(
                "line {} of the word list is not 'language<TAB>word'",
                i + 1
            )));
        };
        let class = match classes.iter().position(|c| c == language) {
            Some(c) => c,
            None => {
                classes.push(language.to_string());
                classes.len() - 1
            }
        };
        texts.push(word.to_string());
        labels.push(class as u32);
    }
    if classes.len() < 2 {
        return Err(Error::InvalidData("the word list has fewer than two languages".into()));
    }
    Ok(Texts { texts, labels, classes })
}

/// Texts as a data set of token ids `[max_len]` by `vocabulary`.
pub fn encoded(
    texts: &[String],
    labels: &[u32],
    classes: &[String],
    vocabulary: &Vocabulary,
) -> Result<Dataset, Error> {
    let features: Vec<f32> = texts.iter().flat_map(|t| vocabulary.encode(t).0).collect();
    Dataset::new(vec![vocabulary.max_len], features, labels.to_vec(), classes.to_vec())
}

/// Texts as a data set of character n-gram counts `[buckets]`.
pub fn bag_of_ngrams(
    texts: &[String],
    labels: &[u32],
    classes: &[String],
    n: usize,
    buckets: usize,
) -> Result<Dataset, Error> {
    let features: Vec<f32> = texts.iter().flat_map(|t| ngram_counts(t, n, buckets)).collect();
    Dataset::new(vec![buckets], features, labels.to_vec(), classes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vocabulary_keeps_the_most_frequent_tokens_and_encodes_with_padding_and_unknowns() {
        let v = Vocabulary::fit(["abca", "bab"], Level::Characters, 2, 4);
        // a: 3, b: 3 (b after a), c: 1 — cut by the size limit.
        assert_eq!(v.tokens, ["a", "b"]);
        assert_eq!(v.size(), 4);
        assert_eq!(v.encode("cab"), (vec![1.0, 2.0, 3.0, 0.0], false));
        assert_eq!(v.encode("ababa"), (vec![2.0, 3.0, 2.0, 3.0], true));
        assert_eq!(v.decode(&v.encode("cab").0), "\u{fffd}ab");
        assert_eq!(v.encode("AB").0, [1.0, 1.0, 0.0, 0.0]);
        let folded = Vocabulary { lowercase: true, ..v };
        assert_eq!(folded.encode("AB").0, [2.0, 3.0, 0.0, 0.0]);
        let words = Vocabulary::fit(["The cat, the hat."], Level::Words, 10, 3);
        assert_eq!(words.tokens, ["the", "cat", "hat"]);
        assert_eq!(words.encode("THE dog").0, [2.0, 1.0, 0.0]);
        assert_eq!(words.decode(&words.encode("the hat").0), "the hat");
    }

    #[test]
    fn ngram_counts_are_shares_of_the_texts_ngrams() {
        let c = ngram_counts("ab", 2, 64);
        // Four characters with the boundaries: 4 unigrams and 3 bigrams.
        assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(c.iter().all(|&v| (v * 7.0 - (v * 7.0).round()).abs() < 1e-5), "{c:?}");
        assert_ne!(ngram_counts("ab", 2, 64), ngram_counts("ba", 2, 64));
    }

    #[test]
    fn the_word_list_gives_classes_in_order_of_appearance_and_names_a_bad_line() {
        let Texts { texts, labels, classes } = words("english\tcat\nfrench\tchat\nenglish\tdog\n").unwrap();
        assert_eq!(
            (texts.len(), labels, classes),
            (3, vec![0, 1, 0], vec!["english".to_string(), "french".into()])
        );
        assert!(words("english cat\n").unwrap_err().to_string().contains("line 1"));
    }
}
