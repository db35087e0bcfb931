//! A model tree: a shallow regression tree whose leaves each hold a ridge regression on
//! the leaf's rows, so a price that is linear in the features within each region (a
//! different slope per price break, say) is fitted by a few leaves instead of many steps.
//! A leaf whose ridge cannot be fitted answers its mean, as a plain tree's leaf does.

use ndarray::{Array1, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{linear, LinearModel, ModelError, RegressionTree, TreeParams};

/// The tree that cuts the regions (kept shallow: each leaf needs rows for its regression)
/// and the leaves' ridge penalty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelTreeParams {
    pub tree: TreeParams,
    pub ridge_alpha: f64,
}

impl Default for ModelTreeParams {
    fn default() -> Self {
        ModelTreeParams { tree: TreeParams { max_depth: 3, min_samples_leaf: 50, ..TreeParams::default() }, ridge_alpha: 1.0 }
    }
}

/// A fitted model tree: `leaves[i]` is the regression of node `i` when it is a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelTree {
    pub tree: RegressionTree,
    pub leaves: Vec<Option<LinearModel>>,
}

impl ModelTreeParams {
    pub fn fit_view(&self, features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>) -> Result<ModelTree, ModelError> {
        let tree = self.tree.fit_view(features, targets)?;
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); tree.nodes.len()];
        for (index, row) in features.rows().into_iter().enumerate() {
            rows_of[tree.leaf_of(row)].push(index);
        }
        let leaves = rows_of
            .iter()
            .map(|rows| {
                if rows.is_empty() {
                    return None;
                }
                let leaf_targets: Array1<f64> = rows.iter().map(|&row| targets[row]).collect();
                linear::ridge(features.select(Axis(0), rows).view(), leaf_targets.view(), self.ridge_alpha)
                    .ok()
                    .filter(LinearModel::is_finite)
            })
            .collect();
        Ok(ModelTree { tree, leaves })
    }
}

impl ModelTree {
    pub fn predict_row(&self, row: ArrayView1<'_, f64>) -> f64 {
        let leaf = self.tree.leaf_of(row);
        match self.leaves.get(leaf).and_then(Option::as_ref) {
            Some(model) => model.predict_row(row),
            None => self.tree.nodes[leaf].value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn a_model_tree_fits_two_lines_with_two_leaves_where_a_tree_needs_many_steps() {
        let x = Array2::from_shape_fn((1000, 2), |(row, column)| ((row * (column + 1) * 7919) % 1000) as f64 / 500.0 - 1.0);
        let y: Array1<f64> =
            x.rows().into_iter().map(|row| if row[0] < 0.0 { 1.0 + 2.0 * row[1] } else { 5.0 - 3.0 * row[1] }).collect();
        let params = ModelTreeParams { tree: TreeParams { max_depth: 1, ..ModelTreeParams::default().tree }, ridge_alpha: 1e-6 };
        let model = params.fit_view(x.view(), y.view()).unwrap();
        let worst = x.rows().into_iter().zip(&y).map(|(row, y)| (model.predict_row(row) - y).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-3, "worst error {worst}");
        let steps = TreeParams { max_depth: 1, ..TreeParams::default() }.fit_view(x.view(), y.view()).unwrap();
        let step_error = x.rows().into_iter().zip(&y).map(|(row, y)| (steps.predict_row(row) - y).abs()).fold(0.0, f64::max);
        assert!(step_error > 1.0, "{step_error}");
    }
}
