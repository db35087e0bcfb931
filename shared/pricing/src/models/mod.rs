//! The candidate regression models.
//!
//! Every fitted linear model (OLS, ridge, lasso, elastic net, forward stagewise) is kept as
//! one [`LinearModel`] (weights and intercept on the standardised features), so the
//! artifact holds plain numbers and a quote is one dot product. Trees are our own
//! [`RegressionTree`], and a [`ModelTree`] is a shallow one of those with a ridge
//! regression in each leaf. [`Model`] is any of them, and predicts one row without allocating.

pub mod linear;
pub mod model_tree;
pub mod stagewise;
pub mod tree;

use std::fmt;

use ndarray::{ArrayView1, ArrayView2, Axis, Slice};
use serde::{Deserialize, Serialize};

pub use linear::LinearModel;
pub use model_tree::{ModelTree, ModelTreeParams};
pub use stagewise::StagewiseParams;
pub use tree::{RegressionTree, TreeParams};

/// A candidate model family, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Ols,
    Ridge,
    Lasso,
    ElasticNet,
    Stagewise,
    Tree,
    ModelTree,
}

impl Algorithm {
    /// The families for data with fewer rows than it takes to trust OLS or a tree: the
    /// regularised linear ones (the patent's S4).
    pub const FOR_WIDE_DATA: [Algorithm; 3] = [Algorithm::Ridge, Algorithm::Lasso, Algorithm::Stagewise];
    /// Every family, for data with enough rows per feature.
    pub const FOR_TALL_DATA: [Algorithm; 7] = [
        Algorithm::Ols,
        Algorithm::Ridge,
        Algorithm::Lasso,
        Algorithm::ElasticNet,
        Algorithm::Stagewise,
        Algorithm::Tree,
        Algorithm::ModelTree,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ols => "ols",
            Algorithm::Ridge => "ridge",
            Algorithm::Lasso => "lasso",
            Algorithm::ElasticNet => "elastic_net",
            Algorithm::Stagewise => "stagewise",
            Algorithm::Tree => "tree",
            Algorithm::ModelTree => "model_tree",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fitted model of any family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    Linear(LinearModel),
    Tree(RegressionTree),
    ModelTree(ModelTree),
}

impl Model {
    /// The prediction for one row of standardised features.
    pub fn predict_row(&self, row: ArrayView1<'_, f64>) -> f64 {
        match self {
            Model::Linear(model) => model.predict_row(row),
            Model::Tree(model) => model.predict_row(row),
            Model::ModelTree(model) => model.predict_row(row),
        }
    }

    /// The predictions for every row.
    pub fn predict_rows(&self, rows: ArrayView2<'_, f64>) -> Vec<f64> {
        rows.rows().into_iter().map(|row| self.predict_row(row)).collect()
    }
}

/// Why a model could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
    #[error("linear regression: {0}")]
    Linear(String),
    #[error("elastic net: {0}")]
    ElasticNet(#[from] linfa_elasticnet::ElasticNetError),
    #[error("the fit gave weights that are not finite numbers")]
    NotFinite,
    #[error("no rows to fit")]
    Empty,
}

impl From<linfa_linear::LinearError<f64>> for ModelError {
    fn from(err: linfa_linear::LinearError<f64>) -> Self {
        ModelError::Linear(err.to_string())
    }
}

/// The hyperparameters of every candidate, one set for all segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// Ridge's L2 penalty, as scikit-learn's `Ridge(alpha)`: against the squared error
    /// summed over the rows.
    pub ridge_alpha: f64,
    /// Lasso's and elastic net's penalty (per row, as scikit-learn's `alpha`).
    pub lasso_penalty: f64,
    pub elastic_net_l1_ratio: f64,
    pub stagewise: StagewiseParams,
    pub tree: TreeParams,
    pub model_tree: ModelTreeParams,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Hyperparameters {
            ridge_alpha: 1.0,
            lasso_penalty: 1e-4,
            elastic_net_l1_ratio: 0.5,
            stagewise: StagewiseParams::default(),
            tree: TreeParams::default(),
            model_tree: ModelTreeParams::default(),
        }
    }
}

/// Fits one candidate on `features` and `targets`. A tree is grown on the older
/// four fifths of the rows and post-pruned on the newest fifth (rows in time order), so
/// its pruning never sees the rows the candidates are compared on.
pub fn fit(
    algorithm: Algorithm,
    features: ArrayView2<'_, f64>,
    targets: ArrayView1<'_, f64>,
    hyper: &Hyperparameters,
) -> Result<Model, ModelError> {
    if features.nrows() == 0 {
        return Err(ModelError::Empty);
    }
    let linear = match algorithm {
        Algorithm::Ols => linear::ols(features, targets)?,
        Algorithm::Ridge => linear::ridge(features, targets, hyper.ridge_alpha)?,
        Algorithm::Lasso => linear::elastic_net(features, targets, hyper.lasso_penalty, 1.0)?,
        Algorithm::ElasticNet => linear::elastic_net(features, targets, hyper.lasso_penalty, hyper.elastic_net_l1_ratio)?,
        Algorithm::Stagewise => hyper.stagewise.fit_view(features, targets),
        Algorithm::Tree => {
            let grown = features.nrows() * 4 / 5;
            let (grow_rows, prune_rows) = (Slice::from(..grown), Slice::from(grown..));
            let mut tree =
                hyper.tree.fit_view(features.slice_axis(Axis(0), grow_rows), targets.slice_axis(Axis(0), grow_rows))?;
            tree.prune(features.slice_axis(Axis(0), prune_rows), targets.slice_axis(Axis(0), prune_rows));
            return Ok(Model::Tree(tree));
        }
        Algorithm::ModelTree => return Ok(Model::ModelTree(hyper.model_tree.fit_view(features, targets)?)),
    };
    if linear.is_finite() {
        Ok(Model::Linear(linear))
    } else {
        Err(ModelError::NotFinite)
    }
}
