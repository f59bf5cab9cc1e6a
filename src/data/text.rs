//! Text as data: a vocabulary of characters or words fitted on training texts (id 0 pads, id 1 is
//! any token the vocabulary does not hold), texts as fixed-length sequences of token ids (what an
//! embedding reads), counts of character n-grams (what a bag-of-characters model or a
//! nearest-neighbour search reads), the built-in word-language set (`assets/words.tsv`, built
//! by `scripts/build-words.mjs`), and a user's texts from a CSV ([`from_csv`]).

use super::Dataset;
use crate::data::csv;
use crate::data::tabular::MAX_CLASSES;
use crate::error::Error;
use crate::rng::Rng;
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

    /// The tokens of `text` as this vocabulary reads them (lower-cased when it lower-cases), all of
    /// them.
    pub fn tokens_of(&self, text: &str) -> Vec<String> {
        if self.lowercase {
            tokens(&text.to_lowercase(), self.level)
        } else {
            tokens(text, self.level)
        }
    }

    /// Each token's id.
    fn ids(&self) -> HashMap<&str, u32> {
        self.tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i as u32 + 2))
            .collect()
    }

    /// `text` as `max_len` ids (cut, or padded with 0), and whether it was cut.
    pub fn encode(&self, text: &str) -> (Vec<f32>, bool) {
        self.encode_by(&self.ids(), text)
    }

    /// [`Vocabulary::encode`] with the ids of [`Vocabulary::ids`], built once for many texts.
    fn encode_by(&self, ids: &HashMap<&str, u32>, text: &str) -> (Vec<f32>, bool) {
        let all = self.tokens_of(text);
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

/// How to read a CSV of texts: its columns (by default the one headed `text`, `sentence`,
/// `review`, `message`, `comment` or `content`, and the one headed `label`, `class`, `target`,
/// `category` or `y`, else the last other column; with no text column so headed, the other column
/// whose values are longest), what a token is, the
/// vocabulary's size limit, and the length texts are cut to (by default the length of the longest
/// 95 % of training texts, at most [`MAX_TEXT_TOKENS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CsvOptions {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    pub level: Level,
    pub vocabulary: usize,
    #[serde(default)]
    pub max_len: Option<usize>,
}

/// The longest a text may be read, in tokens.
pub const MAX_TEXT_TOKENS: usize = 512;
/// The largest vocabulary a text upload may fit.
pub const MAX_VOCABULARY: usize = 50_000;
/// A text upload's held-out share: this fraction of each label's texts (one at least).
pub const HELD_OUT: f64 = 0.2;

/// A CSV of texts read: the training and held-out texts (each label's fifth held out, drawn with a
/// fixed seed so the split is the same on every visit), the vocabulary fitted on the training texts
/// only, how many training texts are longer than its length, and what loading left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub train: Texts,
    pub test: Texts,
    pub vocabulary: Vocabulary,
    pub cut: usize,
    pub notes: Vec<String>,
}

/// Reads a CSV of labelled texts (its first row names the columns). Empty texts are left out with a
/// note; a text column of numbers, a label with one text, a ragged row are refused by name.
pub fn from_csv(text: &str, options: &CsvOptions) -> Result<Upload, Error> {
    let bad = |why: String| Err(Error::InvalidData(why));
    if !(1..=MAX_VOCABULARY).contains(&options.vocabulary) {
        return bad(format!(
            "the vocabulary's size limit must be between 1 and {MAX_VOCABULARY}, got {}",
            options.vocabulary
        ));
    }
    if let Some(n) = options.max_len.filter(|n| !(1..=MAX_TEXT_TOKENS).contains(n)) {
        return bad(format!(
            "the text length must be between 1 and {MAX_TEXT_TOKENS} tokens, got {n}"
        ));
    }
    let table = csv::parse(text)?;
    let Some(((_, header), rows)) = table.rows.split_first() else {
        return bad("the file has no rows".into());
    };
    if rows.is_empty() {
        return bad("the file has a header but no texts below it".into());
    }
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if names.len() < 2 {
        return bad(format!(
            "a CSV of texts needs a header naming a text column and a label column, but its first row has {} field",
            names.len()
        ));
    }
    if let Some((line, row)) = rows.iter().find(|(_, r)| r.len() != names.len()) {
        return bad(format!(
            "line {line} has {} fields where the header has {} (a text with a '{}' in it must be in double quotes)",
            row.len(),
            names.len(),
            table.delimiter
        ));
    }
    let column = |given: &Option<String>, headed: &[&str], what: &str| -> Result<Option<usize>, Error> {
        match given.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(name) => names.iter().position(|n| n == name).map(Some).ok_or_else(|| {
                Error::InvalidData(format!(
                    "there is no {what} column '{name}'; the columns are {}",
                    names.join(", ")
                ))
            }),
            None => Ok(names.iter().position(|n| headed.contains(&n.to_lowercase().as_str()))),
        }
    };
    let text_named = column(
        &options.text,
        &["text", "sentence", "review", "message", "comment", "content"],
        "text",
    )?;
    let label = column(&options.label, &["label", "class", "target", "category", "y"], "label")?.unwrap_or_else(|| {
        (0..names.len())
            .rev()
            .find(|&c| Some(c) != text_named)
            .expect("two columns")
    });
    let longest = || {
        (0..names.len()).filter(|&c| c != label).max_by_key(|&c| {
            let chars: usize = rows.iter().map(|(_, r)| r[c].chars().count()).sum();
            (chars, std::cmp::Reverse(c))
        })
    };
    let text_column = text_named.or_else(longest).expect("two columns at least");
    if text_column == label {
        return bad(format!(
            "the text and the label cannot be the same column ('{}')",
            names[label]
        ));
    }
    let (text_name, label_name) = (&names[text_column], &names[label]);
    let is_number = |f: &str| f.trim().parse::<f64>().is_ok();
    let present: Vec<&str> = rows
        .iter()
        .map(|(_, r)| r[text_column].as_str())
        .filter(|t| !t.trim().is_empty())
        .collect();
    if present.is_empty() {
        return bad(format!("every text in the column '{text_name}' is empty"));
    }
    if present.iter().all(|t| is_number(t)) {
        return bad(format!(
            "the text column '{text_name}' holds only numbers: load the file as a table instead"
        ));
    }
    if let Some((line, _)) = rows.iter().find(|(_, r)| r[label].trim().is_empty()) {
        return bad(format!("line {line} has no label in the column '{label_name}'"));
    }
    let mut notes = Vec::new();
    let empty: Vec<usize> = rows
        .iter()
        .filter(|(_, r)| r[text_column].trim().is_empty())
        .map(|&(line, _)| line)
        .collect();
    if !empty.is_empty() {
        let lines: Vec<String> = empty.iter().take(5).map(usize::to_string).collect();
        let more = if empty.len() > 5 {
            format!(" and {} more", empty.len() - 5)
        } else {
            String::new()
        };
        notes.push(format!(
            "{} row{} with an empty text {} left out (line{} {}{more})",
            empty.len(),
            if empty.len() > 1 { "s" } else { "" },
            if empty.len() > 1 { "were" } else { "was" },
            if lines.len() > 1 { "s" } else { "" },
            lines.join(", ")
        ));
    }
    let kept: Vec<&(usize, Vec<String>)> = rows.iter().filter(|(_, r)| !r[text_column].trim().is_empty()).collect();
    let mut classes: Vec<String> = Vec::new();
    let mut labels = Vec::with_capacity(kept.len());
    for (_, r) in &kept {
        let name = r[label].trim();
        let class = classes.iter().position(|c| c == name).unwrap_or_else(|| {
            classes.push(name.to_string());
            classes.len() - 1
        });
        labels.push(class as u32);
    }
    if classes.len() < 2 {
        return bad(format!(
            "the label column '{label_name}' has one label only ('{}'): a classifier needs at least two",
            classes[0]
        ));
    }
    if classes.len() > MAX_CLASSES {
        return bad(format!(
            "the label column '{label_name}' has {} distinct values: Whetstone classifies, so a label needs at most {MAX_CLASSES} classes (is it the right column?)",
            classes.len()
        ));
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    labels
        .iter()
        .enumerate()
        .for_each(|(i, &l)| members[l as usize].push(i));
    let lonely: Vec<(String, usize)> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.len() == 1)
        .map(|(k, m)| (classes[k].clone(), kept[m[0]].0))
        .collect();
    if let Some((name, line)) = lonely.first() {
        let others = if lonely.len() > 1 {
            format!(" (and {} other labels)", lonely.len() - 1)
        } else {
            String::new()
        };
        return bad(format!(
            "the label '{name}' has one text only (line {line}){others}: each label needs at least two, one to train on and one to hold out"
        ));
    }
    // Each label's fifth held out, by a fixed seed; both parts keep the file's order.
    let mut rng = Rng::new(0x7E57_5EED);
    let mut held = vec![false; kept.len()];
    for m in &mut members {
        rng.shuffle(m);
        let n = ((m.len() as f64 * HELD_OUT).round() as usize).clamp(1, m.len() - 1);
        m[..n].iter().for_each(|&i| held[i] = true);
    }
    let part = |test: bool| Texts {
        texts: (0..kept.len())
            .filter(|&i| held[i] == test)
            .map(|i| kept[i].1[text_column].trim().to_string())
            .collect(),
        labels: (0..kept.len())
            .filter(|&i| held[i] == test)
            .map(|i| labels[i])
            .collect(),
        classes: classes.clone(),
    };
    let (train, test) = (part(false), part(true));
    let lengths: Vec<usize> = train.texts.iter().map(|t| tokens(t, options.level).len()).collect();
    let max_len = options.max_len.unwrap_or_else(|| {
        let mut sorted = lengths.clone();
        sorted.sort_unstable();
        sorted[(sorted.len() * 95).div_ceil(100).saturating_sub(1)].clamp(1, MAX_TEXT_TOKENS)
    });
    let vocabulary = Vocabulary {
        lowercase: options.level == Level::Words,
        ..Vocabulary::fit(
            train.texts.iter().map(String::as_str),
            options.level,
            options.vocabulary,
            max_len,
        )
    };
    let cut = lengths.iter().filter(|&&n| n > max_len).count();
    Ok(Upload {
        train,
        test,
        vocabulary,
        cut,
        notes,
    })
}

/// The built-in word list's vocabulary: every character of its words (lower-case, as a typed word
/// is read), 12 of them a word.
pub fn words_vocabulary(words: &Texts) -> Vocabulary {
    Vocabulary {
        lowercase: true,
        ..Vocabulary::fit(words.texts.iter().map(String::as_str), Level::Characters, 500, 12)
    }
}

/// Texts as a data set of token ids `[max_len]` by `vocabulary`.
pub fn encoded(
    texts: &[String],
    labels: &[u32],
    classes: &[String],
    vocabulary: &Vocabulary,
) -> Result<Dataset, Error> {
    let ids = vocabulary.ids();
    let features: Vec<f32> = texts.iter().flat_map(|t| vocabulary.encode_by(&ids, t).0).collect();
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

    fn options(level: Level) -> CsvOptions {
        CsvOptions {
            text: None,
            label: None,
            level,
            vocabulary: 100,
            max_len: None,
        }
    }

    /// `n` texts of each of two labels, with a header.
    fn reviews(n: usize) -> String {
        let mut csv = String::from("id,review,sentiment\n");
        for i in 0..n {
            csv += &format!("{i},\"Great film, loved it {i}\",good\n{},Dull and long,bad\n", n + i);
        }
        csv
    }

    #[test]
    fn a_csv_of_texts_is_split_per_label_and_its_vocabulary_fitted_on_the_training_texts() {
        let up = from_csv(&reviews(10), &options(Level::Words)).unwrap();
        assert_eq!(up.train.classes, ["good", "bad"]);
        assert_eq!((up.train.texts.len(), up.test.texts.len()), (16, 4));
        for k in 0..2 {
            assert_eq!(
                up.test.labels.iter().filter(|&&l| l == k).count(),
                2,
                "a fifth of each label"
            );
        }
        assert_eq!(
            up.train.texts.iter().filter(|t| t.contains(',')).count(),
            8,
            "quoted commas are text"
        );
        // Numbers of held-out texts never reach the vocabulary.
        for held in up.test.texts.iter().filter(|t| t.starts_with("Great")) {
            let number = held.rsplit(' ').next().unwrap();
            assert!(
                !up.vocabulary.tokens.iter().any(|t| t == number),
                "{number} is held out"
            );
        }
        assert!(up.vocabulary.lowercase && up.vocabulary.tokens.contains(&"great".to_string()));
        assert_eq!((up.vocabulary.max_len, up.cut), (5, 0));
        // The same file splits the same way; characters read the same texts.
        assert_eq!(from_csv(&reviews(10), &options(Level::Words)).unwrap(), up);
        let chars = from_csv(
            &reviews(10),
            &CsvOptions {
                max_len: Some(10),
                ..options(Level::Characters)
            },
        )
        .unwrap();
        assert_eq!((chars.vocabulary.max_len, chars.cut), (10, 16));
        assert!(!chars.vocabulary.lowercase && chars.vocabulary.tokens.contains(&"G".to_string()));
        // With no column headed as a label, the label is the last column but the text.
        let up = from_csv(
            "topic,sentence\nweather,rain\nweather,snow\nfood,soup\nfood,rice\n",
            &options(Level::Words),
        )
        .unwrap();
        assert_eq!(up.train.classes, ["weather", "food"]);
        // Columns by name.
        let named = CsvOptions {
            text: Some("id".into()),
            label: Some("review".into()),
            ..options(Level::Words)
        };
        assert!(from_csv(&reviews(10), &named)
            .unwrap_err()
            .to_string()
            .contains("holds only numbers"));
        let missing = CsvOptions {
            text: Some("body".into()),
            ..options(Level::Words)
        };
        assert!(from_csv(&reviews(10), &missing)
            .unwrap_err()
            .to_string()
            .contains("there is no text column 'body'; the columns are id, review, sentiment"));
    }

    #[test]
    fn bad_texts_are_named() {
        let err = |csv: &str| from_csv(csv, &options(Level::Characters)).unwrap_err().to_string();
        let with_empty = format!("{}9,,good\n10,  ,bad\n", reviews(3));
        let up = from_csv(&with_empty, &options(Level::Characters)).unwrap();
        assert_eq!(up.notes, ["2 rows with an empty text were left out (lines 8, 9)"]);
        assert_eq!(up.train.texts.len() + up.test.texts.len(), 6);
        assert!(err("").contains("the file has no rows"));
        assert!(err("text,label\n").contains("a header but no texts below it"));
        assert!(err("just text\nhello\n").contains("its first row has 1 field"));
        assert!(err("text,label\n,a\n,b\n").contains("every text in the column 'text' is empty"));
        assert!(err("text,label\n1,a\n2.5,b\n3,a\n4,b\n").contains("the text column 'text' holds only numbers"));
        assert!(err("text,label\nhi,a\nho,a\n").contains("one label only ('a')"));
        assert!(err("text,label\nhi,a\nho,a\nhu,b\n")
            .contains("the label 'b' has one text only (line 4): each label needs at least two"));
        assert!(err("text,label\nhi, there,a\n")
            .contains("line 2 has 3 fields where the header has 2 (a text with a ',' in it must be in double quotes)"));
        assert!(err("text,label\nhi,\n").contains("line 2 has no label"));
        let huge = CsvOptions {
            max_len: Some(100_000),
            ..options(Level::Words)
        };
        assert!(from_csv(&reviews(3), &huge)
            .unwrap_err()
            .to_string()
            .contains("between 1 and 512 tokens"));
    }

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
