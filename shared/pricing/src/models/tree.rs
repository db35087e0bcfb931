//! Our regression tree (linfa-trees is classification only): CART on total squared error.
//!
//! Growing is histogram-based: each feature is cut once into at most `max_bins` bins (one
//! bin per distinct value when there are that few, so a step function is split exactly;
//! quantiles of up to `BIN_SAMPLE` values otherwise), every row keeps its bin codes, and a
//! node finds its best split by summing its rows' targets per bin: O(rows × features)
//! per tree level, with no sorting after the first cut.
//!
//! Pre-pruning stops a node at `max_depth`, when a child would hold fewer than
//! `min_samples_leaf` rows, or when the best split lowers the total squared error by
//! less than `min_error_decrease` times the root's. Post-pruning ([`RegressionTree::prune`])
//! is reduced-error pruning on held-out rows: a subtree becomes a leaf when the leaf's
//! held-out squared error is no larger than the subtree's.

use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::{Array1, ArrayBase, ArrayView1, ArrayView2, Data, Ix2};
use serde::{Deserialize, Serialize};

use super::ModelError;

/// At most this many values of a feature are sorted to place its bins.
const BIN_SAMPLE: usize = 200_000;

/// The tree's hyperparameters, checked by [`TreeParams::check`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// A split must lower the total squared error by at least this fraction of the root's.
    pub min_error_decrease: f64,
    /// At most 256: a row's bin code is one byte per feature.
    pub max_bins: usize,
}

impl Default for TreeParams {
    fn default() -> Self {
        TreeParams { max_depth: 14, min_samples_leaf: 5, min_error_decrease: 1e-7, max_bins: 256 }
    }
}

/// A fitted tree: `nodes[0]` is the root, and a split's children come after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionTree {
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The mean target of the training rows that reached this node.
    pub value: f64,
    pub rows: u32,
    pub split: Option<Split>,
}

/// Rows with `feature <= threshold` go left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub feature: u32,
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
}

impl TreeParams {
    /// Refuses hyperparameters that cannot grow a tree.
    pub fn check(&self) -> Result<(), ModelError> {
        if self.max_bins < 2
            || self.max_bins > 256
            || self.min_samples_leaf == 0
            || self.min_error_decrease.is_nan()
            || self.min_error_decrease < 0.0
        {
            return Err(ModelError::Linfa(linfa::Error::Parameters(format!(
                "tree: max_bins must be 2..=256, min_samples_leaf at least 1, min_error_decrease non-negative: {self:?}"
            ))));
        }
        Ok(())
    }

    /// Grows a tree on a view of the rows (no post-pruning).
    pub fn fit_view(&self, features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>) -> Result<RegressionTree, ModelError> {
        self.check()?;
        if features.nrows() == 0 {
            return Err(ModelError::Empty);
        }
        let bins = Bins::cut(features, self.max_bins);
        let targets: Vec<f64> = targets.to_vec();
        Ok(Grower { params: self, bins: &bins, targets: &targets }.grow())
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<f64>, ModelError> for TreeParams {
    type Object = RegressionTree;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<f64>>) -> Result<RegressionTree, ModelError> {
        self.fit_view(dataset.records().view(), dataset.targets().view())
    }
}

impl RegressionTree {
    pub fn predict_row(&self, row: ArrayView1<'_, f64>) -> f64 {
        self.nodes[self.leaf_of(row)].value
    }

    /// The index of the leaf `row` falls in.
    pub fn leaf_of(&self, row: ArrayView1<'_, f64>) -> usize {
        let mut at = 0;
        while let Some(split) = self.nodes[at].split {
            at = if row[split.feature as usize] <= split.threshold { split.left } else { split.right } as usize;
        }
        at
    }

    pub fn leaves(&self) -> usize {
        self.nodes.iter().filter(|node| node.split.is_none()).count()
    }

    pub fn depth(&self) -> usize {
        fn depth_of(tree: &RegressionTree, at: usize) -> usize {
            match tree.nodes[at].split {
                None => 0,
                Some(split) => 1 + depth_of(tree, split.left as usize).max(depth_of(tree, split.right as usize)),
            }
        }
        depth_of(self, 0)
    }

    /// Reduced-error pruning on held-out rows: bottom up, a split whose subtree's squared
    /// error on these rows is not lower than its own value's becomes a leaf. Does nothing
    /// without rows.
    pub fn prune(&mut self, features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>) {
        if features.nrows() == 0 {
            return;
        }
        // The held-out squared error of each node taken as a leaf.
        let mut as_leaf = vec![0.0; self.nodes.len()];
        for (row, target) in features.rows().into_iter().zip(targets) {
            let mut at = 0;
            loop {
                as_leaf[at] += (target - self.nodes[at].value).powi(2);
                match self.nodes[at].split {
                    Some(split) => {
                        at = if row[split.feature as usize] <= split.threshold { split.left } else { split.right } as usize
                    }
                    None => break,
                }
            }
        }
        // Children come after their parent, so a reverse sweep sees them first.
        let mut subtree = as_leaf.clone();
        for at in (0..self.nodes.len()).rev() {
            if let Some(split) = self.nodes[at].split {
                let below = subtree[split.left as usize] + subtree[split.right as usize];
                if as_leaf[at] <= below {
                    self.nodes[at].split = None;
                } else {
                    subtree[at] = below;
                }
            }
        }
        self.compact();
    }

    /// Drops the nodes no longer reachable from the root, keeping parents before children.
    fn compact(&mut self) {
        let mut kept = Vec::with_capacity(self.nodes.len());
        let mut queue = std::collections::VecDeque::from([(0usize, None::<(usize, bool)>)]);
        while let Some((old, parent)) = queue.pop_front() {
            let new = kept.len();
            let node = self.nodes[old].clone();
            if let Some((parent, is_left)) = parent {
                if let Some(split) = kept.get_mut(parent).and_then(|node: &mut Node| node.split.as_mut()) {
                    if is_left {
                        split.left = new as u32;
                    } else {
                        split.right = new as u32;
                    }
                }
            }
            if let Some(split) = node.split {
                queue.push_back((split.left as usize, Some((new, true))));
                queue.push_back((split.right as usize, Some((new, false))));
            }
            kept.push(node);
        }
        self.nodes = kept;
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for RegressionTree {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        for (row, out) in x.rows().into_iter().zip(y.iter_mut()) {
            *out = self.predict_row(row);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

/// Each feature's cut points and every row's bin codes (row-major, one byte per feature).
struct Bins {
    features: usize,
    /// Per feature, ascending: bin `b` holds the values `<= thresholds[b]` and above the previous one.
    thresholds: Vec<Vec<f64>>,
    codes: Vec<u8>,
}

impl Bins {
    fn cut(features: ArrayView2<'_, f64>, max_bins: usize) -> Bins {
        let (rows, width) = features.dim();
        let stride = rows.div_ceil(BIN_SAMPLE).max(1);
        let thresholds: Vec<Vec<f64>> = features
            .columns()
            .into_iter()
            .map(|column| {
                let mut values: Vec<f64> = column.iter().step_by(stride).copied().collect();
                values.sort_unstable_by(f64::total_cmp);
                values.dedup();
                let midpoint = |upper: usize| (values[upper - 1] + values[upper]) / 2.0;
                if values.len() <= max_bins {
                    (1..values.len()).map(midpoint).collect()
                } else {
                    let mut cuts: Vec<f64> = (1..max_bins).map(|bin| midpoint(bin * values.len() / max_bins)).collect();
                    cuts.dedup();
                    cuts
                }
            })
            .collect();
        let mut codes = vec![0u8; rows * width];
        for (row, out) in features.rows().into_iter().zip(codes.chunks_exact_mut(width.max(1))) {
            for ((value, cuts), code) in row.iter().zip(&thresholds).zip(out.iter_mut()) {
                // At most 255 cut points, so the bin fits a byte.
                *code = cuts.partition_point(|cut| cut < value) as u8;
            }
        }
        Bins { features: width, thresholds, codes }
    }

    fn code(&self, row: u32, feature: usize) -> u8 {
        self.codes[row as usize * self.features + feature]
    }
}

/// Sum and count of targets.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    sum: f64,
    count: u32,
}

impl Tally {
    /// The part of the squared error a node's mean removes: sum² / count.
    fn explained(self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum * self.sum / f64::from(self.count)
        }
    }
}

struct Grower<'a> {
    params: &'a TreeParams,
    bins: &'a Bins,
    targets: &'a [f64],
}

struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
}

impl Grower<'_> {
    fn grow(&self) -> RegressionTree {
        let mut order: Vec<u32> = (0..self.targets.len() as u32).collect();
        let root = self.tally(&order);
        let root_error = self.targets.iter().map(|target| target * target).sum::<f64>() - root.explained();
        let min_gain = (self.params.min_error_decrease * root_error).max(1e-12 * root_error.abs()).max(f64::MIN_POSITIVE);
        let mut nodes = vec![Node { value: root.sum / f64::from(root.count), rows: root.count, split: None }];
        let mut pending = vec![Pending { node: 0, start: 0, end: order.len(), depth: 0 }];
        let mut histogram = vec![Tally::default(); self.bins.features * 256];
        while let Some(Pending { node, start, end, depth }) = pending.pop() {
            let rows = &mut order[start..end];
            if depth >= self.params.max_depth || rows.len() < 2 * self.params.min_samples_leaf {
                continue;
            }
            let Some(best) = self.best_split(rows, &mut histogram) else { continue };
            if best.gain < min_gain {
                continue;
            }
            let middle = partition(rows, |row| self.bins.code(row, best.feature) <= best.bin);
            let (left_rows, right_rows) = rows.split_at(middle);
            let (left, right) = (self.tally(left_rows), self.tally(right_rows));
            let left_index = nodes.len();
            nodes.push(Node { value: left.sum / f64::from(left.count), rows: left.count, split: None });
            nodes.push(Node { value: right.sum / f64::from(right.count), rows: right.count, split: None });
            nodes[node].split = Some(Split {
                feature: best.feature as u32,
                threshold: self.bins.thresholds[best.feature][usize::from(best.bin)],
                left: left_index as u32,
                right: left_index as u32 + 1,
            });
            pending.push(Pending { node: left_index, start, end: start + middle, depth: depth + 1 });
            pending.push(Pending { node: left_index + 1, start: start + middle, end, depth: depth + 1 });
        }
        RegressionTree { nodes }
    }

    fn tally(&self, rows: &[u32]) -> Tally {
        rows.iter()
            .fold(Tally::default(), |tally, &row| Tally { sum: tally.sum + self.targets[row as usize], count: tally.count + 1 })
    }

    fn best_split(&self, rows: &[u32], histogram: &mut [Tally]) -> Option<BestSplit> {
        let width = self.bins.features;
        histogram.fill(Tally::default());
        for &row in rows {
            let target = self.targets[row as usize];
            let codes = &self.bins.codes[row as usize * width..(row as usize + 1) * width];
            for (feature, &code) in codes.iter().enumerate() {
                let cell = &mut histogram[feature * 256 + usize::from(code)];
                cell.sum += target;
                cell.count += 1;
            }
        }
        let total = self.tally(rows);
        let min_leaf = self.params.min_samples_leaf as u32;
        let mut best: Option<BestSplit> = None;
        for feature in 0..width {
            let cuts = self.bins.thresholds[feature].len();
            let mut left = Tally::default();
            for bin in 0..cuts {
                let cell = histogram[feature * 256 + bin];
                left.sum += cell.sum;
                left.count += cell.count;
                let right = Tally { sum: total.sum - left.sum, count: total.count - left.count };
                if left.count < min_leaf || right.count < min_leaf {
                    continue;
                }
                let gain = left.explained() + right.explained() - total.explained();
                if best.as_ref().is_none_or(|best| gain > best.gain) {
                    best = Some(BestSplit { feature, bin: bin as u8, gain });
                }
            }
        }
        best
    }
}

struct BestSplit {
    feature: usize,
    bin: u8,
    gain: f64,
}

/// Moves the rows for which `goes_left` holds to the front; answers how many there are.
fn partition(rows: &mut [u32], goes_left: impl Fn(u32) -> bool) -> usize {
    let mut next_left = 0;
    for index in 0..rows.len() {
        if goes_left(rows[index]) {
            rows.swap(index, next_left);
            next_left += 1;
        }
    }
    next_left
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn step(x: f64) -> f64 {
        if x < 3.0 {
            1.0
        } else if x < 7.0 {
            5.0
        } else {
            2.0
        }
    }

    #[test]
    fn a_tree_fits_a_step_function_exactly_with_one_leaf_per_step() {
        let x =
            Array2::from_shape_fn((100, 2), |(row, column)| if column == 0 { (row % 10) as f64 } else { (row * 37 % 11) as f64 });
        let y: Array1<f64> = x.column(0).mapv(step);
        let tree =
            TreeParams { min_samples_leaf: 1, ..TreeParams::default() }.fit(&DatasetBase::new(x.clone(), y.clone())).unwrap();
        assert_eq!(tree.predict(&x), y);
        assert_eq!(tree.leaves(), 3, "{tree:?}");
        assert_eq!(tree.predict_row(ndarray::array![2.4, 0.0].view()), 1.0);
        assert_eq!(tree.predict_row(ndarray::array![6.4, 0.0].view()), 5.0);
    }

    #[test]
    fn pre_pruning_stops_at_the_depth_and_leaf_size_asked_for() {
        let x = Array2::from_shape_fn((500, 1), |(row, _)| row as f64);
        let y: Array1<f64> = x.column(0).mapv(|value| (value / 10.0).sin());
        let shallow = TreeParams { max_depth: 3, ..TreeParams::default() }.fit_view(x.view(), y.view()).unwrap();
        assert_eq!(shallow.depth(), 3);
        assert!(shallow.leaves() <= 8);
        let coarse = TreeParams { min_samples_leaf: 100, ..TreeParams::default() }.fit_view(x.view(), y.view()).unwrap();
        assert!(coarse.nodes.iter().all(|node| node.rows >= 100), "{coarse:?}");
    }

    #[test]
    fn post_pruning_on_pure_noise_leaves_a_small_tree() {
        let noise = |row: usize| ((row * 7919 + 13) % 101) as f64 / 100.0;
        let x = Array2::from_shape_fn((400, 1), |(row, _)| row as f64);
        let y: Array1<f64> = (0..400).map(noise).collect();
        let mut tree = TreeParams { min_samples_leaf: 1, ..TreeParams::default() }.fit_view(x.view(), y.view()).unwrap();
        let grown = tree.leaves();
        let held_out_y: Array1<f64> = (400..800).map(noise).collect();
        let held_out_x = Array2::from_shape_fn((400, 1), |(row, _)| row as f64 + 0.5);
        tree.prune(held_out_x.view(), held_out_y.view());
        assert!(tree.leaves() * 4 < grown, "{} leaves of {grown} kept", tree.leaves());
        // Still a valid tree: every split's children exist.
        assert!(tree.nodes.iter().filter_map(|node| node.split).all(|split| (split.right as usize) < tree.nodes.len()));
    }

    #[test]
    fn a_tree_survives_a_json_round_trip_with_the_same_predictions() {
        let x = Array2::from_shape_fn((200, 3), |(row, column)| ((row * (column + 1) * 31) % 17) as f64 / 3.3);
        let y: Array1<f64> = x.rows().into_iter().map(|row| row[0] * row[1] - row[2]).collect();
        let tree = TreeParams::default().fit_view(x.view(), y.view()).unwrap();
        let back: RegressionTree = serde_json::from_str(&serde_json::to_string(&tree).unwrap()).unwrap();
        assert_eq!(back.predict(&x), tree.predict(&x));
    }
}
