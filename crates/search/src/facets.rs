//! Facet counting: how many matching documents carry each value of a dimension.
//!
//! Every document keeps its facets (`industry/biomedicine`, `park/<id>`, `year/2019` …) in
//! one facet column, whose dictionary is sorted, so the values of a dimension are one
//! contiguous run of term ordinals and, within it, in the order of the values' bytes.
//! [`DimCounter`] counts matching documents per ordinal in a plain array and names only
//! the values it returns: the most frequent `limit` of each dimension asked for. With one
//! segment (what a rebuild leaves) that is one look-up per value shown; with several, the
//! counts are merged by value.
//!
//! What a segment's ordinals stand for is read once per segment and kept while the segment
//! lives ([`SegmentValuesCache`]): segments never change, and reading the dictionary is
//! most of a small query's cost when a dimension (parks) has thousands of values.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::index::Dim;

/// What one segment's facet ordinals stand for.
#[derive(Debug, Default)]
pub(crate) struct SegmentValues {
    /// Each dimension's ordinals (empty when the segment has none of its values).
    ranges: HashMap<Dim, Range<u64>>,
    /// Each ordinal's value (the facet path after the dimension), by ordinal.
    values: Vec<Box<str>>,
}

impl SegmentValues {
    fn read(dict: &tantivy::columnar::Dictionary) -> std::io::Result<Self> {
        let mut out = Self { ranges: HashMap::new(), values: Vec::with_capacity(dict.num_terms()) };
        let mut terms = dict.range().into_stream()?;
        while terms.advance() {
            let key = terms.key();
            let (code, value) = match key.iter().position(|b| *b == 0) {
                Some(at) => (&key[..at], &key[at + 1..]),
                None => (key, &[][..]),
            };
            let ord = terms.term_ord();
            debug_assert_eq!(ord as usize, out.values.len(), "the stream visits every ordinal in order");
            out.values.push(String::from_utf8_lossy(value).into());
            if let Some(dim) = Dim::ALL.into_iter().find(|d| d.code().as_bytes() == code) {
                let range = out.ranges.entry(dim).or_insert(ord..ord);
                range.end = ord + 1;
            }
        }
        Ok(out)
    }
}

/// The [`SegmentValues`] of the segments searched lately, by segment.
#[derive(Debug, Default)]
pub(crate) struct SegmentValuesCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentValues>>>,
}

impl SegmentValuesCache {
    fn of(
        &self,
        segment: &SegmentReader,
        field: &str,
    ) -> tantivy::Result<(tantivy::fastfield::FacetReader, Arc<SegmentValues>)> {
        let reader = segment.facet_reader(field)?;
        let id = segment.segment_id();
        if let Some(values) = self.segments.lock().expect("not poisoned").get(&id) {
            return Ok((reader, values.clone()));
        }
        let values = Arc::new(SegmentValues::read(reader.facet_dict())?);
        self.segments.lock().expect("not poisoned").insert(id, values.clone());
        Ok((reader, values))
    }

    /// Forgets segments that are no longer searched (merged away or deleted).
    pub(crate) fn keep_only(&self, live: impl IntoIterator<Item = SegmentId>) {
        let live: HashSet<SegmentId> = live.into_iter().collect();
        let mut segments = self.segments.lock().expect("not poisoned");
        if segments.len() > live.len() {
            segments.retain(|id, _| live.contains(id));
        }
    }
}

/// Counts the matching documents per value of some dimensions of the facet field `field`.
pub(crate) struct DimCounter<'a> {
    pub(crate) field: &'a str,
    pub(crate) dims: &'a [Dim],
    /// Values returned per dimension, most frequent first (`None`: all).
    pub(crate) limit: Option<usize>,
    pub(crate) cache: &'a SegmentValuesCache,
}

/// One segment's counts, by ordinal.
pub(crate) struct SegmentCounts {
    values: Arc<SegmentValues>,
    counts: Vec<u32>,
}

/// Collects one segment.
pub(crate) struct SegmentCounter {
    reader: tantivy::fastfield::FacetReader,
    counts: SegmentCounts,
}

impl SegmentCollector for SegmentCounter {
    type Fruit = SegmentCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let counts = &mut self.counts.counts;
        let mut previous = u64::MAX;
        for ord in self.reader.facet_ords(doc) {
            // A document's ordinals come sorted; one value counts once per document.
            if ord != previous {
                counts[ord as usize] += 1;
                previous = ord;
            }
        }
    }

    fn harvest(self) -> SegmentCounts {
        self.counts
    }
}

impl Collector for DimCounter<'_> {
    type Fruit = Vec<(Dim, Vec<(String, u64)>)>;
    type Child = SegmentCounter;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentCounter> {
        let (reader, values) = self.cache.of(segment, self.field)?;
        let counts = vec![0; values.values.len()];
        Ok(SegmentCounter { reader, counts: SegmentCounts { values, counts } })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentCounts>) -> tantivy::Result<Self::Fruit> {
        Ok(self.dims.iter().map(|dim| (*dim, top_values(&segments, *dim, self.limit))).collect())
    }
}

/// The values of `dim` with their counts over all segments, most frequent first (ties by
/// value), at most `limit` of them.
fn top_values(segments: &[SegmentCounts], dim: Dim, limit: Option<usize>) -> Vec<(String, u64)> {
    let limit = limit.unwrap_or(usize::MAX);
    if let [one] = segments {
        // Within a dimension, ordinal order is the values' order: rank by ordinal, then
        // name only what is returned.
        let mut ords: Vec<(usize, u32)> = counted(one, dim).collect();
        let by_count = |a: &(usize, u32), b: &(usize, u32)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if ords.len() > limit {
            ords.select_nth_unstable_by(limit, by_count);
            ords.truncate(limit);
        }
        ords.sort_unstable_by(by_count);
        return ords.into_iter().map(|(ord, count)| (one.values.values[ord].to_string(), u64::from(count))).collect();
    }
    let mut merged: HashMap<&str, u64> = HashMap::new();
    for segment in segments {
        for (ord, count) in counted(segment, dim) {
            *merged.entry(&segment.values.values[ord]).or_default() += u64::from(count);
        }
    }
    let mut top: Vec<(&str, u64)> = merged.into_iter().collect();
    let by_count = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    if top.len() > limit {
        top.select_nth_unstable_by(limit, by_count);
        top.truncate(limit);
    }
    top.sort_unstable_by(by_count);
    top.into_iter().map(|(value, count)| (value.to_string(), count)).collect()
}

/// The ordinals of `dim` in a segment that matching documents carry, with their counts.
fn counted(segment: &SegmentCounts, dim: Dim) -> impl Iterator<Item = (usize, u32)> + '_ {
    let range = segment.values.ranges.get(&dim).cloned().unwrap_or(0..0);
    range.map(|ord| (ord as usize, segment.counts[ord as usize])).filter(|(_, count)| *count > 0)
}
