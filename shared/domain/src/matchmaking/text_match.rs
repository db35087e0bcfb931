//! Which candidates' text matches a buyer's words, and how well: an in-memory tantivy
//! index of the candidates (name, specification, model and attribute values) built per
//! request, searched with BM25 over the [`terms`](super::terms) of the buyer's text. A
//! candidate matches when it holds at least [`TextMatcher::min_share_of_terms`] of the
//! buyer's distinct terms; a word inside another ("ink" in "pink") is not a term of it.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, SingleSegmentIndexWriter, TantivyDocument, Term};

use super::terms::terms;
use crate::product::ProductContent;

const TOKENIZER: &str = "product_text";
/// The smallest writer budget tantivy takes; a request's candidates fit in it many times.
const WRITER_BUDGET_BYTES: usize = 15_000_000;

/// One candidate that matched: its position in the candidates given, and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextMatch {
    pub candidate: usize,
    pub score: f32,
}

#[derive(Debug, thiserror::Error)]
#[error("text matching failed: {0}")]
pub struct TextMatchError(#[from] tantivy::TantivyError);

/// The text of a listing a buyer's words are matched against.
pub fn listing_text(content: &ProductContent) -> String {
    let mut parts = vec![content.name.as_str(), content.specification.as_str(), content.model.as_str()];
    parts.extend(content.attributes.values().map(String::as_str));
    parts.join("\n")
}

/// Matches a buyer's text against candidates' texts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextMatcher {
    /// The share of the buyer's distinct terms a candidate must hold, 0 to 1.
    pub min_share_of_terms: f32,
}

impl Default for TextMatcher {
    fn default() -> Self {
        Self { min_share_of_terms: 2.0 / 3.0 }
    }
}

impl TextMatcher {
    /// The candidates (by position in `candidates`) that match `query`, best score first.
    pub fn matches(&self, query: &str, candidates: &[String]) -> Result<Vec<TextMatch>, TextMatchError> {
        let mut wanted = terms(query);
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() || candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqs);
        let text = schema.add_text_field("text", TextOptions::default().set_indexing_options(indexing));
        let position = schema.add_u64_field("candidate", STORED);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(TOKENIZER, ProductTextTokenizer::default());
        let mut writer = SingleSegmentIndexWriter::<TantivyDocument>::new(index, WRITER_BUDGET_BYTES)?;
        for (i, candidate) in candidates.iter().enumerate() {
            writer.add_document(doc!(text => candidate.as_str(), position => i as u64))?;
        }
        let index = writer.finalize()?;
        let searcher = index.reader()?.searcher();

        let clauses: Vec<(Occur, Box<dyn Query>)> = wanted
            .iter()
            .map(|t| {
                let query = TermQuery::new(Term::from_field_text(text, t), IndexRecordOption::WithFreqs);
                (Occur::Should, Box::new(query) as Box<dyn Query>)
            })
            .collect();
        let required = ((wanted.len() as f32 * self.min_share_of_terms).ceil() as usize).clamp(1, wanted.len());
        let query = BooleanQuery::with_minimum_required_clauses(clauses, required);
        let hits = searcher.search(&query, &TopDocs::with_limit(candidates.len()))?;
        hits.into_iter()
            .map(|(score, address)| {
                let stored: TantivyDocument = searcher.doc(address)?;
                let candidate = stored.get_first(position).and_then(|v| v.as_u64()).unwrap_or_default() as usize;
                Ok(TextMatch { candidate, score })
            })
            .collect()
    }
}

/// The tantivy tokenizer yielding a text's [`terms`].
#[derive(Debug, Clone, Default)]
struct ProductTextTokenizer {
    token: Token,
}

struct TermStream<'a> {
    terms: std::vec::IntoIter<String>,
    token: &'a mut Token,
    text_len: usize,
}

impl Tokenizer for ProductTextTokenizer {
    type TokenStream<'a> = TermStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream<'a> {
        self.token.reset();
        TermStream { terms: terms(text).into_iter(), token: &mut self.token, text_len: text.len() }
    }
}

impl TokenStream for TermStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(term) = self.terms.next() else { return false };
        self.token.position = self.token.position.wrapping_add(1);
        self.token.offset_from = 0;
        self.token.offset_to = self.text_len;
        self.token.text = term;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(query: &str, candidates: &[&str]) -> Vec<usize> {
        let candidates: Vec<String> = candidates.iter().map(|c| (*c).to_owned()).collect();
        TextMatcher::default().matches(query, &candidates).unwrap().into_iter().map(|m| m.candidate).collect()
    }

    #[test]
    fn a_request_in_other_units_and_spelling_matches_the_listing() {
        assert_eq!(matched("ink stone 120mm", &["Duan inkstone 12 cm", "Bamboo brush 12 cm"]), [0]);
    }

    #[test]
    fn weight_units_in_any_spelling_match() {
        let listings = ["Green tea 1 kilogram tin", "Black tea 250 g tin"];
        assert_eq!(matched("green tea 1kg", &listings), [0]);
        assert_eq!(matched("绿茶 1公斤", &["绿茶 1 千克", "红茶 250克"]), [0]);
    }

    #[test]
    fn chinese_requests_match_by_bigrams_and_synonyms() {
        assert_eq!(matched("端砚", &["Duan inkstone", "端砚 十二厘米", "宣纸"]), [1, 0]);
        assert_eq!(matched("宜兴紫砂壶", &["宜兴紫砂壶 300毫升", "景德镇瓷碗"]), [0]);
    }

    #[test]
    fn the_closer_listing_scores_higher() {
        let listings = ["Duan inkstone", "Duan inkstone with lid"];
        assert_eq!(matched("duan ink stone lid", &listings), [1, 0]);
    }

    #[test]
    fn nothing_alike_matches_nothing() {
        assert!(matched("porcelain bowl", &["Duan inkstone 12 cm", "Bamboo brush"]).is_empty());
        assert!(matched("", &["Duan inkstone"]).is_empty());
    }

    #[test]
    fn a_word_inside_another_word_does_not_match() {
        assert!(matched("ink", &["pink silk scarf"]).is_empty());
        assert!(matched("cap", &["capacitor 10uF"]).is_empty());
    }

    #[test]
    fn the_listing_text_holds_model_and_attribute_values() {
        let mut content = crate::product::tests::content("Duan inkstone");
        content.model = "DY-120".into();
        content.attributes.insert("colour".into(), "purple".into());
        let text = listing_text(&content);
        assert!(text.contains("DY-120") && text.contains("purple") && text.contains("Duan inkstone"));
    }
}
