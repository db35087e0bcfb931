//! Linear models fitted by linfa: OLS and ridge (`linfa-linear`'s least squares), lasso
//! and elastic net (`linfa-elasticnet`, which does not centre the features: they arrive
//! standardised).
//!
//! Columns that are constant over the rows fitted (a segment's own province effect, for
//! instance) are left out of the fit and get weight zero: with an intercept they make the
//! least-squares problem singular.

use linfa::prelude::*;
use linfa::DatasetBase;
use linfa_elasticnet::ElasticNet;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Ix2, Slice};
use serde::{Deserialize, Serialize};

use super::ModelError;

/// `intercept + weights · x` on standardised features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub weights: Vec<f64>,
    pub intercept: f64,
}

impl LinearModel {
    pub fn predict_row(&self, row: ArrayView1<'_, f64>) -> f64 {
        self.intercept + self.weights.iter().zip(row.iter()).map(|(weight, value)| weight * value).sum::<f64>()
    }

    pub fn is_finite(&self) -> bool {
        self.intercept.is_finite() && self.weights.iter().all(|weight| weight.is_finite())
    }

    /// The L2 norm of the weights (how far a penalty shrank them).
    pub fn weight_norm(&self) -> f64 {
        self.weights.iter().map(|weight| weight * weight).sum::<f64>().sqrt()
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for LinearModel {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        for (row, out) in x.rows().into_iter().zip(y.iter_mut()) {
            *out = self.predict_row(row);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

/// Ordinary least squares.
pub fn ols(features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>) -> Result<LinearModel, ModelError> {
    fit_on_varying_columns(features, targets, |dataset| {
        let fitted = LinearRegression::new().fit(dataset)?;
        Ok((fitted.params().to_vec(), fitted.intercept()))
    })
}

/// Ridge: least squares plus `alpha` times the squared weights, solved exactly as OLS on
/// the centred rows augmented with `sqrt(alpha)` times the identity (zero targets), so
/// the intercept is not penalised. linfa's Tweedie regressor with power 0 is the same
/// ridge, but its L-BFGS iterations cost tens of milliseconds even on a segment of a
/// hundred rows, and a training fits thousands of segments.
pub fn ridge(features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>, alpha: f64) -> Result<LinearModel, ModelError> {
    fit_on_varying_columns(features, targets, |dataset| {
        let records = dataset.records();
        let (rows, columns) = records.dim();
        let feature_means = records.mean_axis(Axis(0)).ok_or(ModelError::Empty)?;
        let target_mean = dataset.targets().mean().ok_or(ModelError::Empty)?;
        let mut augmented = Array2::zeros((rows + columns, columns));
        augmented.slice_axis_mut(Axis(0), Slice::from(..rows)).assign(&(records - &feature_means));
        augmented.slice_axis_mut(Axis(0), Slice::from(rows..)).diag_mut().fill(alpha.sqrt());
        let mut augmented_targets = Array1::zeros(rows + columns);
        augmented_targets
            .slice_axis_mut(Axis(0), Slice::from(..rows))
            .assign(&dataset.targets().mapv(|target| target - target_mean));
        let fitted = LinearRegression::new().with_intercept(false).fit(&DatasetBase::new(augmented, augmented_targets))?;
        let intercept = target_mean - fitted.params().dot(&feature_means);
        Ok((fitted.params().to_vec(), intercept))
    })
}

/// Elastic net with `penalty` and `l1_ratio` (1 is the lasso).
pub fn elastic_net(
    features: ArrayView2<'_, f64>,
    targets: ArrayView1<'_, f64>,
    penalty: f64,
    l1_ratio: f64,
) -> Result<LinearModel, ModelError> {
    fit_on_varying_columns(features, targets, |dataset| {
        let fitted =
            ElasticNet::params().penalty(penalty).l1_ratio(l1_ratio).max_iterations(1000).tolerance(1e-6).fit(dataset)?;
        Ok((fitted.hyperplane().to_vec(), fitted.intercept()))
    })
}

type Dataset = DatasetBase<Array2<f64>, Array1<f64>>;

fn fit_on_varying_columns(
    features: ArrayView2<'_, f64>,
    targets: ArrayView1<'_, f64>,
    fit: impl FnOnce(&Dataset) -> Result<(Vec<f64>, f64), ModelError>,
) -> Result<LinearModel, ModelError> {
    let varying: Vec<usize> = (0..features.ncols()).filter(|&column| varies(features.column(column))).collect();
    let dataset = DatasetBase::new(features.select(Axis(1), &varying), targets.to_owned());
    let (fitted_weights, intercept) =
        if varying.is_empty() { (Vec::new(), targets.mean().ok_or(ModelError::Empty)?) } else { fit(&dataset)? };
    let mut weights = vec![0.0; features.ncols()];
    for (column, weight) in varying.into_iter().zip(fitted_weights) {
        weights[column] = weight;
    }
    // A left-out column was constant over the fitted rows: the intercept holds its share.
    Ok(LinearModel { weights, intercept })
}

fn varies(column: ArrayView1<'_, f64>) -> bool {
    let first = column.first().copied().unwrap_or(0.0);
    column.iter().any(|value| (value - first).abs() > 1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn linear_data() -> (Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_fn((200, 3), |(row, column)| ((row * (column + 3) * 7919) % 101) as f64 / 50.0 - 1.0);
        let y = x.rows().into_iter().map(|row| 2.0 + 3.0 * row[0] - 1.5 * row[1] + 0.5 * row[2]).collect();
        (x, y)
    }

    #[test]
    fn ols_recovers_the_coefficients_of_a_noiseless_line() {
        let (x, y) = linear_data();
        let model = ols(x.view(), y.view()).unwrap();
        assert!((model.intercept - 2.0).abs() < 1e-8, "{model:?}");
        assert!((model.weights[0] - 3.0).abs() < 1e-8 && (model.weights[1] + 1.5).abs() < 1e-8, "{model:?}");
    }

    #[test]
    fn ridge_shrinks_the_coefficients_as_its_penalty_grows() {
        let (x, y) = linear_data();
        let light = ridge(x.view(), y.view(), 1e-4).unwrap();
        let heavy = ridge(x.view(), y.view(), 100.0).unwrap();
        assert!((light.weights[0] - 3.0).abs() < 0.05, "{light:?}");
        assert!(heavy.weight_norm() < 0.8 * light.weight_norm(), "{heavy:?} vs {light:?}");
    }

    #[test]
    fn lasso_drops_a_feature_that_does_not_matter() {
        let (x, _) = linear_data();
        let y: Array1<f64> = x.column(0).mapv(|value| 1.0 + 2.0 * value);
        let model = elastic_net(x.view(), y.view(), 0.05, 1.0).unwrap();
        assert_eq!(model.weights[1], 0.0, "{model:?}");
        assert!(model.weights[0] > 1.5, "{model:?}");
    }

    #[test]
    fn a_constant_column_gets_weight_zero_instead_of_breaking_ols() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]];
        let y = array![3.0, 5.0, 7.0, 9.0];
        let model = ols(x.view(), y.view()).unwrap();
        assert_eq!(model.weights[1], 0.0);
        assert!((model.predict_row(x.row(0)) - 3.0).abs() < 1e-9);
    }
}
