//! Text analysis: the CJK-aware tokenizer of the name fields, pinyin keys, and the
//! splitting of a query into the units the query builder matches.
//!
//! - **Chinese** runs are indexed as every character (unigram) and every pair of adjacent
//!   characters (bigram), so any substring of a name matches: a query of one character
//!   looks the unigram up, a longer one requires all of its bigrams (光谷生物城 holds 光谷,
//!   谷生, 生物, 物城 …, so 生物城 matches through 生物 and 物城).
//! - **Latin letters and digits** form words, lowercased (Douyu → douyu).
//! - **Pinyin** keys come from the `pinyin` crate (first reading of each character, no
//!   tone): the full spelling and the initials of every suffix of the name starting at a
//!   character (光谷生物城 → guanggushengwucheng, gushengwucheng, … and ggswc, gswc, …),
//!   so a prefix query on them matches a name that contains the spelled word anywhere at a
//!   character boundary (guanggu, shengwu, ggs, swc).

use pinyin::ToPinyin;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name of [`CjkTokenizer`] in the index's tokenizer manager.
pub const CJK_TOKENIZER: &str = "parkgraph_cjk";

/// Whether a character is written with CJK ideographs (and is analysed as such).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F | 0x3040..=0x30FF)
}

/// One unit of analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A run of CJK characters.
    Cjk(String),
    /// A lowercased word of Latin letters and digits.
    Word(String),
}

/// Splits text into CJK runs and lowercased words; everything else separates.
pub fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut cjk = false;
    let flush = |current: &mut String, cjk: bool, out: &mut Vec<Unit>| {
        if !current.is_empty() {
            let text = std::mem::take(current);
            out.push(if cjk { Unit::Cjk(text) } else { Unit::Word(text) });
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            if !cjk {
                flush(&mut current, cjk, &mut out);
                cjk = true;
            }
            current.push(c);
        } else if c.is_alphanumeric() {
            if cjk {
                flush(&mut current, cjk, &mut out);
                cjk = false;
            }
            current.extend(c.to_lowercase());
        } else {
            flush(&mut current, cjk, &mut out);
        }
    }
    flush(&mut current, cjk, &mut out);
    out
}

/// The terms a CJK run must all match: its bigrams, or the character itself when the run
/// is one character long.
pub fn cjk_query_terms(run: &str) -> Vec<String> {
    let chars: Vec<char> = run.chars().collect();
    if chars.len() == 1 {
        return vec![chars[0].to_string()];
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// English terms for the industries that Chinese names speak of: a record whose name, or
/// the name of a park it is in, holds one of the Chinese words on the left is also found
/// by the English words on the right (光谷生物城 and the firms in it by `biotech`, so
/// "Optics Valley biotech" finds what "光谷 生物" finds). A glossary of industries, not a
/// translation of names: names keep their own English (`nameEn`).
pub const INDUSTRY_TERMS: &[(&[&str], &str)] = &[
    (
        &["生物", "医药", "制药", "生命科学", "基因", "医疗器械"],
        "biotech biotechnology bioscience biomedicine biomedical pharmaceutical pharma life sciences",
    ),
    (&["光电", "光通信", "光纤", "光器件", "激光"], "optoelectronics optoelectronic photonics optical laser"),
    (&["集成电路", "芯片", "半导体", "存储器"], "semiconductor semiconductors chip chips integrated circuits"),
    (&["软件"], "software"),
    (&["人工智能"], "artificial intelligence ai"),
    (&["网络安全", "网安"], "cybersecurity"),
    (&["航天", "航空", "火箭"], "aerospace space"),
    (&["汽车", "车谷", "新能源车", "智能网联"], "automotive auto vehicle vehicles"),
    (&["智能制造", "装备", "机器人"], "manufacturing robotics"),
    (&["金融", "资本"], "finance financial"),
    (&["电商", "电子商务"], "e-commerce ecommerce"),
    (&["教育"], "education"),
    (&["直播"], "live streaming"),
];

/// The entries of [`INDUSTRY_TERMS`] whose Chinese words `text` holds, as a bit set (bit
/// `i` for entry `i`).
pub fn industries_of(text: &str) -> u32 {
    INDUSTRY_TERMS
        .iter()
        .enumerate()
        .filter(|(_, (words, _))| words.iter().any(|w| text.contains(w)))
        .fold(0, |set, (i, _)| set | (1 << i))
}

/// The English terms of the entries in a bit set of [`industries_of`], in the glossary's order.
pub fn industry_terms_of(set: u32) -> impl Iterator<Item = &'static str> {
    INDUSTRY_TERMS.iter().enumerate().filter(move |(i, _)| set & (1 << i) != 0).map(|(_, (_, terms))| *terms)
}

/// The English industry terms (see [`INDUSTRY_TERMS`]) for the Chinese words in `texts`,
/// each set once, in the glossary's order.
pub fn industry_terms<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    industry_terms_of(texts.into_iter().fold(0, |set, text| set | industries_of(text))).collect()
}

/// The words, Chinese and English, that find the holders of a designation (by its code):
/// `光谷 独角兽` and `Optics Valley unicorn` find the unicorns of Optics Valley.
pub fn designation_terms(code: &str) -> Option<&'static str> {
    Some(match code {
        "UNICORN" => "独角兽企业 unicorn unicorns",
        "GAZELLE" => "瞪羚企业 gazelle gazelles",
        "HIGH_TECH_ENTERPRISE" => "高新技术企业 high-tech enterprise",
        "FORTUNE_GLOBAL_500" => "世界500强 Fortune Global 500",
        "CHINA_TOP_500" => "中国500强 China Top 500",
        "SPECIALIZED_LITTLE_GIANT" => "专精特新 小巨人 little giant",
        _ => return None,
    })
}

/// The pinyin of each character of `text` that has one (first reading, no tone), with the
/// characters without one (Latin letters, digits) as lowercase words of their own.
fn syllables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for (c, p) in text.chars().zip(text.to_pinyin()) {
        match p {
            Some(p) => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(p.plain().to_string());
            }
            None if c.is_alphanumeric() => word.extend(c.to_lowercase()),
            None => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Pinyin keys of a Chinese name: the full spelling and the initials of each suffix that
/// starts at a syllable (see the module docs). Empty when the name has no Chinese.
pub fn pinyin_keys(name: &str) -> (Vec<String>, Vec<String>) {
    let syllables = syllables(name);
    if !name.chars().any(is_cjk) || syllables.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut full = Vec::with_capacity(syllables.len());
    let mut initials = Vec::with_capacity(syllables.len());
    for start in 0..syllables.len() {
        full.push(syllables[start..].concat());
        initials.push(syllables[start..].iter().filter_map(|s| s.chars().next()).collect());
    }
    (full, initials)
}

/// The pinyin of each character (first reading, no tone); `None` for characters without.
pub fn char_pinyin(text: &str) -> Vec<Option<String>> {
    text.to_pinyin().map(|p| p.map(|p| p.plain().to_string())).collect()
}

/// The full pinyin of a name (its first key), e.g. 小米 → xiaomi.
pub fn pinyin_full(name: &str) -> String {
    syllables(name).concat()
}

/// A tokenizer for names in Chinese, English or both (see the module docs).
#[derive(Clone, Default)]
pub struct CjkTokenizer {
    tokens: Vec<Token>,
}

/// The token stream of [`CjkTokenizer`].
pub struct CjkTokenStream<'a> {
    tokens: &'a mut [Token],
    index: usize,
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = CjkTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkTokenStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(o, _)| *o);
        let mut i = 0;
        while i < chars.len() {
            let (offset, c) = chars[i];
            if is_cjk(c) {
                self.tokens.push(Token {
                    offset_from: offset,
                    offset_to: end_of(i),
                    position,
                    text: c.to_string(),
                    position_length: 1,
                });
                if let Some(&(_, next)) = chars.get(i + 1)
                    && is_cjk(next)
                {
                    self.tokens.push(Token {
                        offset_from: offset,
                        offset_to: end_of(i + 1),
                        position,
                        text: [c, next].iter().collect(),
                        position_length: 2,
                    });
                }
                position += 1;
                i += 1;
            } else if c.is_alphanumeric() {
                let mut word = String::new();
                let mut j = i;
                while j < chars.len() && chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1) {
                    word.extend(chars[j].1.to_lowercase());
                    j += 1;
                }
                self.tokens.push(Token {
                    offset_from: offset,
                    offset_to: end_of(j - 1),
                    position,
                    text: word,
                    position_length: 1,
                });
                position += 1;
                i = j;
            } else {
                i += 1;
            }
        }
        CjkTokenStream { tokens: &mut self.tokens, index: usize::MAX }
    }
}

impl TokenStream for CjkTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut tokenizer = CjkTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn chinese_is_cut_into_unigrams_and_bigrams_and_latin_into_lowercase_words() {
        assert_eq!(tokens("光谷生物"), ["光", "光谷", "谷", "谷生", "生", "生物", "物"]);
        assert_eq!(tokens("Douyu 斗鱼TV"), ["douyu", "斗", "斗鱼", "鱼", "tv"]);
    }

    #[test]
    fn a_query_run_needs_all_its_bigrams() {
        assert_eq!(cjk_query_terms("生物城"), ["生物", "物城"]);
        assert_eq!(cjk_query_terms("禾"), ["禾"]);
        assert_eq!(
            units("光谷 biotech-2 小米"),
            [Unit::Cjk("光谷".into()), Unit::Word("biotech".into()), Unit::Word("2".into()), Unit::Cjk("小米".into())]
        );
    }

    #[test]
    fn pinyin_keys_cover_every_suffix_in_full_and_initials() {
        let (full, initials) = pinyin_keys("光谷生物城");
        assert_eq!(full[0], "guanggushengwucheng");
        assert!(full.contains(&"shengwucheng".to_string()));
        assert_eq!(initials[0], "ggswc");
        assert_eq!(pinyin_full("小米"), "xiaomi");
        assert_eq!(pinyin_keys("Douyu"), (Vec::new(), Vec::new()));
    }

    #[test]
    fn chinese_industry_words_bring_their_english_terms() {
        let terms = industry_terms(["光谷生物城", "武汉东湖新技术开发区（中国光谷）"]);
        assert_eq!(terms.len(), 1);
        assert!(terms[0].split(' ').any(|t| t == "biotech"), "{terms:?}");
        assert_eq!(industry_terms(["光谷软件园"]), ["software"]);
        assert!(industry_terms(["斗鱼", "光谷中心城"]).is_empty());
        assert!(INDUSTRY_TERMS.len() <= 32, "the entries fit a bit set");
    }
}
