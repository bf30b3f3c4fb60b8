//! [`SeekUnion`]: alternatives (any of them matches, their scores add up) read by seeking
//! each alternative, and scored only for the documents asked about.
//!
//! A query of several units (`武汉 光电`) needs every unit to match, and each unit is a
//! union of the fields it may match in. tantivy's union fills a window of 4,096 documents
//! from every alternative at a time, scoring each; that is the fastest way to walk a union
//! from start to end, but when the union is only asked about the documents another unit
//! matched (what an intersection does with all but its shortest part), a dense unit (`武汉`,
//! the city of nearly every firm) is still read and scored whole, window after window. Here
//! each alternative jumps to the document asked about along its own skip list, and scores
//! are computed only for documents that are asked for their score: the intersection's
//! matches.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

/// Any of `clauses`, scores added.
#[derive(Debug)]
pub(crate) struct SeekUnionQuery {
    clauses: Vec<Box<dyn Query>>,
}

impl Clone for SeekUnionQuery {
    fn clone(&self) -> Self {
        Self { clauses: self.clauses.iter().map(|q| q.box_clone()).collect() }
    }
}

impl SeekUnionQuery {
    pub(crate) fn new(clauses: Vec<Box<dyn Query>>) -> Self {
        Self { clauses }
    }
}

impl Query for SeekUnionQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self.clauses.iter().map(|q| q.weight(enable_scoring)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(SeekUnionWeight { weights }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        for clause in &self.clauses {
            clause.query_terms(visitor);
        }
    }
}

struct SeekUnionWeight {
    weights: Vec<Box<dyn Weight>>,
}

impl Weight for SeekUnionWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let children = self.weights.iter().map(|w| w.scorer(reader, boost)).collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(SeekUnion::new(children)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("any of the alternatives, scores added", scorer.score()))
    }
}

/// The scorer: the alternatives that have not ended, each on a document at or after the
/// union's.
pub(crate) struct SeekUnion {
    children: Vec<Box<dyn Scorer>>,
    doc: DocId,
}

impl SeekUnion {
    fn new(mut children: Vec<Box<dyn Scorer>>) -> Self {
        children.retain(|c| c.doc() != TERMINATED);
        let mut union = Self { children, doc: TERMINATED };
        union.settle();
        union
    }

    /// Takes the smallest document of the alternatives, dropping those that ended.
    fn settle(&mut self) -> DocId {
        self.children.retain(|c| c.doc() != TERMINATED);
        self.doc = self.children.iter().map(|c| c.doc()).min().unwrap_or(TERMINATED);
        self.doc
    }
}

impl DocSet for SeekUnion {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        let current = self.doc;
        for child in &mut self.children {
            if child.doc() == current {
                child.advance();
            }
        }
        self.settle()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for child in &mut self.children {
            if child.doc() < target {
                child.seek(target);
            }
        }
        self.settle()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.children.iter().map(|c| c.size_hint()).fold(0, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.children.iter().map(|c| c.cost()).fold(0, u64::saturating_add)
    }
}

impl Scorer for SeekUnion {
    fn score(&mut self) -> Score {
        let doc = self.doc;
        self.children.iter_mut().filter(|c| c.doc() == doc).map(|c| c.score()).sum()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::*;

    /// The same documents and scores as tantivy's own union, alone and inside an
    /// intersection, over alternatives dense and sparse.
    #[test]
    fn matches_and_scores_like_a_boolean_union() {
        let mut schema = Schema::builder();
        let a = schema.add_text_field("a", STRING);
        let b = schema.add_text_field("b", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).expect("writer");
        for i in 0..20_000u32 {
            let mut doc = TantivyDocument::default();
            // "dense" in 9 of 10 documents, "sparse" in 1 of 97, "rare" in 1 of 1,009.
            if !i.is_multiple_of(10) {
                doc.add_text(a, "dense");
            }
            if i.is_multiple_of(97) {
                doc.add_text(b, "sparse");
            }
            if i.is_multiple_of(1_009) {
                doc.add_text(a, "rare");
                doc.add_text(b, "rare");
            }
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
        };
        let alternatives = || vec![term(a, "dense"), term(b, "sparse")];
        let ours: Box<dyn Query> = Box::new(SeekUnionQuery::new(alternatives()));
        let theirs: Box<dyn Query> = Box::new(BooleanQuery::union(alternatives()));
        let run = |query: &dyn Query| {
            let top = TopDocs::with_limit(50_000).order_by_score();
            searcher.search(query, &(top, Count)).expect("search")
        };
        assert_eq!(run(&*ours), run(&*theirs));
        let either = |i: &u32| !i.is_multiple_of(10) || i.is_multiple_of(97);
        assert_eq!(run(&*ours).1, (0..20_000u32).filter(either).count());

        // Asked only about the rare documents: seeks, not a walk.
        let within = |union: Box<dyn Query>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(vec![(Occur::Must, union), (Occur::Must, term(b, "rare"))]))
        };
        let (ours, theirs) = (run(&*within(ours)), run(&*within(theirs)));
        assert_eq!(ours, theirs);
        assert_eq!(ours.1, (0..20_000u32).filter(|i| i.is_multiple_of(1_009)).filter(either).count());
        assert!(ours.1 > 10);
    }
}
